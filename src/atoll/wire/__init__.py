"""SeaTable's JSON and URL grammar: pure functions shared by server and SDK."""
