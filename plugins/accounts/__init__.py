"""The accounts plugin: users and roles (authentication arrives with the accounts issue)."""
