"""The coding judge: runs candidates' code against a problem's tests in a sandbox or a service."""
