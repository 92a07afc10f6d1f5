"""The web pages for people: sign-in, incidents, who is on call; server-rendered, no build step."""
