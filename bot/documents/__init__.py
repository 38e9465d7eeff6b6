"""The records a chair signs and a partnership circulates: the template context of each
document type (minutes, action log, panel agenda and minutes), the words they use, handling
instructions and who receives restricted text, and the check that templates and contexts agree."""
