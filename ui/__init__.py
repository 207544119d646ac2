"""The page's parts: rendering hits safely, the research workbench views, the upload panel.

`app.py` composes them; like the page, they hold no ranking logic (that lives in `search/`).
"""
