"""One router per venue protocol, plus the sandbox's own admin routes."""
