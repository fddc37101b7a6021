"""What each `concierge` command does, one module per group of commands."""
