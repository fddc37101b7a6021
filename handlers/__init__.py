"""The platform-free core of Concierge: message types, understanding, the conversation and its use cases."""
