"""The classroom in the browser: one game served to a device per team, an umpire console and a
projected map (``wargame serve``). ``room`` holds the game, ``tokens`` who may see what,
``app`` the web server; the pages in ``static/`` use no CDN."""
