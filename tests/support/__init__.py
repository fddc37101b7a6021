"""Test support: database fixtures and a driver that talks to the core like a user."""
