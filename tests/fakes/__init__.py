"""Real servers speaking external protocols, started by the tests that need them."""
