"""Vision worker accounts: machine users with API tokens and the cameras they run."""
