"""The patient's follow-up page, opened from the link in an email: /f/<token>, no sign-in."""
