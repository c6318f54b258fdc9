"""The web view (Telegram Mini App and browser): authentication, page data and HTML, no HTTP."""
