"""Persistence for Concierge: SQLAlchemy 2 models, repositories, a unit of work and migrations."""
