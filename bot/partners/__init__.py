"""Partners without Slack: e-mailed, single-person, single-purpose links to secure web pages
(answer an invitation, see and close one's actions), a short session once a link is used,
and the e-mails that carry those links through the outbox."""
