"""The Flask side of the app: sign-in, security headers, health, the viewer of a request."""
