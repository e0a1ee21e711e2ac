"""The operator dashboard served by `staktrakr serve`: the whole fleet on one page (GET /dashboard)
and the JSON it is built from (GET /api/dashboard), behind DASHBOARD_TOKEN.

- data.py: the JSON (fleet, coverage, failures; SQL in store/queries/dashboard.py)
- cache.py: settled days, hours and windows kept between refreshes (dropped hourly)
- prices.py: the prices panel (daily and per-window median and low, the vendor table)
- access.py: token, signed session cookie, Content-Security-Policy
- fleet_health.py: the other pollers' /healthz (FLEET_HEALTH_URLS), checked at most every 60 s
- routes.py: the page, login, logout, the API and the hashed static assets
- static/: the page's script and style, and uPlot (MIT, vendored with its licence) for the charts
"""
