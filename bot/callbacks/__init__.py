"""The contact-request queue: its tables (with the staff users who handle it), storing, and office hours.

Used by the actions (storing a request), the web app (contact form, staff console) and the command line.
"""
