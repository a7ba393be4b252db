"""Server-rendered web pages (Jinja2) for seekers, enterprises, organisers and administrators."""
