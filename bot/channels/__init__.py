"""Platform adapters. Each translates one platform's events to `Inbound` and `Reply` to its calls."""
