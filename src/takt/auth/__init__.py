"""Identity: users, passwords, access and refresh tokens, personal access tokens."""
