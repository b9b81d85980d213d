"""The ``[notify]`` table of plugins.toml: providers, reminders, violation alerts, retries."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SmtpConfig(BaseModel):
    """Where email goes. With no ``host`` mail is kept in the blob store under ``mailbox/``
    (one ``.eml`` per message), so a development server shows what it would have sent."""

    host: str = Field("", description="SMTP server; empty keeps mail in the blob store mailbox.")
    port: int = Field(587, ge=1, le=65535, description="SMTP port (587 submission, 465 TLS).")
    starttls: bool = Field(True, description="Upgrade the connection with STARTTLS.")
    ssl: bool = Field(False, description="Connect with TLS from the start (port 465).")
    verify_tls: bool = Field(
        True, description="Check the server's certificate (turn off only for a test server)."
    )
    ca_file: str = Field("", description="Extra CA bundle to trust (PEM), e.g. a private CA.")
    username: str = Field("", description="AUTH user name; empty sends without AUTH.")
    password_env: str = Field(
        "INVIGILATOR_SMTP_PASSWORD", description="Environment variable holding the password."
    )
    from_address: str = Field(
        "invigilator@localhost", description="The From address of every message."
    )
    from_name: str = Field("Invigilator", description="The From display name.")
    timeout_seconds: float = Field(15.0, gt=0, le=120, description="Per-connection timeout.")
    relay_outbox: bool = Field(
        True,
        description="Also deliver the mails other plugins write to the blob store outbox "
        "(password resets, invitations) once a host is set.",
    )


class TwilioConfig(BaseModel):
    """SMS through Twilio's Messages API. With no ``account_sid`` SMS is switched off."""

    account_sid: str = Field("", description="Twilio Account SID; empty switches SMS off.")
    auth_token_env: str = Field(
        "INVIGILATOR_TWILIO_TOKEN", description="Environment variable holding the auth token."
    )
    from_number: str = Field("", description="The sending number, E.164 (+15005550006).")
    base_url: str = Field("https://api.twilio.com", description="API root (a test server).")
    timeout_seconds: float = Field(10.0, gt=0, le=60, description="Per-request timeout.")


class WebhookConfig(BaseModel):
    allow_private: bool = Field(
        False,
        description="Allow webhook URLs that resolve to private, loopback or link-local "
        "addresses (off: such URLs are refused, so a webhook cannot probe the internal network).",
    )
    timeout_seconds: float = Field(10.0, gt=0, le=60, description="Per-request timeout.")
    disable_after_failures: int = Field(
        10, ge=1, le=1000, description="Consecutive failed deliveries that switch an endpoint off."
    )


class ReminderConfig(BaseModel):
    offsets_minutes: list[int] = Field(
        default_factory=lambda: [24 * 60, 60],
        description="Remind each candidate this many minutes before their exam opens.",
    )
    sweep_seconds: float = Field(
        30.0, gt=0, le=3600, description="How often due reminders and retries are looked for."
    )


class ViolationAlertConfig(BaseModel):
    min_severity: str = Field(
        "high", pattern="^(low|medium|high)$", description="Lowest severity proctors hear about."
    )
    rate_limit_minutes: int = Field(
        5, ge=0, le=1440, description="At most one alert per attempt and kind in this time."
    )
    digest_minutes: int = Field(
        0,
        ge=0,
        le=1440,
        description="0 alerts at once; otherwise collect alerts and send one summary this often.",
    )


class RetryConfig(BaseModel):
    max_attempts: int = Field(5, ge=1, le=50, description="Tries per message before it fails.")
    backoff_seconds: float = Field(
        30.0, ge=0, le=3600, description="Wait before the 2nd try; doubles after each failure."
    )
    max_backoff_seconds: float = Field(3600.0, ge=0, description="Cap on the wait between tries.")


class NotifyConfig(BaseModel):
    """Notification channels and policies; every channel fails on its own without blocking
    the request that triggered a message."""

    base_url: str = Field("", description="Link root in messages; empty uses the public URL.")
    default_language: str = Field("en", max_length=16, description="Template language default.")
    templates_folder: str = Field(
        "", description="Folder whose <event>.<lang>.txt/.html files override the built-in ones."
    )
    smtp: SmtpConfig = Field(default_factory=SmtpConfig, description="Email: [notify.smtp].")
    twilio: TwilioConfig = Field(default_factory=TwilioConfig, description="SMS: [notify.twilio].")
    webhooks: WebhookConfig = Field(
        default_factory=WebhookConfig, description="Outgoing webhooks: [notify.webhooks]."
    )
    reminders: ReminderConfig = Field(
        default_factory=ReminderConfig, description="Exam reminders: [notify.reminders]."
    )
    violations: ViolationAlertConfig = Field(
        default_factory=ViolationAlertConfig,
        description="Violation alerts to proctors: [notify.violations].",
    )
    retry: RetryConfig = Field(
        default_factory=RetryConfig, description="Retries with backoff: [notify.retry]."
    )
