"""One module per venue: its wire formats, its signing, and an httpx client.

The client signs with these modules and the sandbox verifies with them, so each wire
format is written exactly once.
"""
