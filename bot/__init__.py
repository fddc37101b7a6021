"""The shell of Concierge: configuration, command line, wiring and one adapter per platform."""
