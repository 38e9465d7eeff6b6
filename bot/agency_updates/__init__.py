"""Agency updates: what each agency shares before a discussion or panel."""
