"""Customer-facing text: Jinja2 templates and the knowledge base shipped with Concierge."""
