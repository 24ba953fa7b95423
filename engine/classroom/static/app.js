// pages: see engine/classroom/app.py for the API
