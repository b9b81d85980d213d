"""Notifications: email, SMS, in-app and webhooks for what happens in Invigilator."""
