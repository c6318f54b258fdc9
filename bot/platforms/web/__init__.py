"""The web view's HTTP side (aiohttp): routes, cookies and security headers."""
