"""Every hook a plugin can implement, in one place (project name ``invigilator``).

Hooks register or build things at start-up: routes, jobs, config sections, CLI commands,
migrations, templates, demo data. None is called on the per-frame media path; the pipeline calls
detector objects directly. A test fails when a hook here lacks a docstring or a test.

Hooks that may do I/O (``invigilator_startup``, ``invigilator_shutdown``,
``invigilator_seed_demo``) may be written ``async def``; the caller awaits what they return.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy
from pydantic import BaseModel

from core.audio import AnyDetector
from core.policy import Rule
from core.ports import JobFunction

if TYPE_CHECKING:
    import click

    from core.services import Services

PROJECT = "invigilator"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def invigilator_config_sections() -> Mapping[str, type[BaseModel]]:
    """Declare the ``plugins.toml`` tables this plugin owns and the model that validates each.

    Called once at boot, before any backend opens. Return ``{"judge": JudgeConfig}`` to own the
    ``[judge]`` table. Validation errors stop the boot with the table and field named; a claimed
    table missing from the file gets the model's defaults. Read the validated value later with
    ``services.section("judge", JudgeConfig)``. Two plugins claiming one table is a boot error.
    """
    raise NotImplementedError


@hookspec
def invigilator_routes() -> Iterable[Any]:
    """Return the HTTP endpoints this plugin serves (``webapp.routing.Endpoint`` objects).

    Called once while the web app is built. Declare endpoints with ``webapp.routing.Router``:
    each carries its method, path, request/response models, roles and summary, and so appears
    in the one OpenAPI document at ``/openapi.json``. Pages (HTML) are endpoints too, declared
    with ``include_in_schema=False``. A path that another plugin already serves is a boot error.
    """
    raise NotImplementedError


@hookspec
def invigilator_jobs() -> Mapping[str, JobFunction]:
    """Return background job functions by name, for ``services.jobs.enqueue(name, ...)``.

    Called once by both the web process and ``invigilator worker``. Each function is
    ``async def job(ctx: dict, **kwargs)``; ``ctx["services"]`` holds the opened
    :class:`core.services.Services`. Names are global: prefix them with the plugin name
    (``"notify.send_email"``). A name registered twice is a boot error.
    """
    raise NotImplementedError


@hookspec
def invigilator_startup(services: Services) -> Awaitable[None] | None:
    """Run after every backend is open and migrations are current, before traffic is served.

    ``services`` gives the database, event log, blob store, cache, bus, job queue and the
    validated plugin sections. Use it to warm caches or start background tasks the plugin owns.
    May be ``async``. An exception here marks the plugin as failed (with the reason shown by
    ``invigilator plugins list``) and the server still starts.
    """
    raise NotImplementedError


@hookspec
def invigilator_shutdown(services: Services) -> Awaitable[None] | None:
    """Release what ``invigilator_startup`` acquired; called once while the process stops.

    Runs before the backends close, so a plugin may still flush to them. May be ``async``.
    Exceptions are logged and do not stop the other plugins' shutdown.
    """
    raise NotImplementedError


@hookspec
def invigilator_seed_demo(services: Services) -> Awaitable[list[str] | None] | list[str] | None:
    """Create this plugin's demo data for ``invigilator seed-demo`` (and ``make run``).

    Must be idempotent: running seed-demo twice creates nothing new. Return lines to print
    for the person who ran it (e.g. demo logins), or ``None``. May be ``async``.
    """
    raise NotImplementedError


@hookspec
def invigilator_cli_commands() -> Iterable[click.Command]:
    """Return extra ``click`` commands to add under the ``invigilator`` command line.

    Called when the CLI starts. A command whose name is already taken is reported and skipped.
    """
    raise NotImplementedError


@hookspec
def invigilator_migration_dirs() -> Iterable[Path]:
    """Return folders of Alembic revisions for the tables this plugin owns.

    ``invigilator migrate`` runs the kernel's revisions and every plugin's together (Alembic
    ``version_locations``); a plugin's first revision should set ``branch_labels`` to its name
    and ``depends_on`` the kernel's head so the order is well defined.
    """
    raise NotImplementedError


@hookspec
def invigilator_template_dirs() -> Iterable[Path]:
    """Return folders of Jinja templates for this plugin's pages.

    They are searched after the web app's own templates, so a page can extend ``base.html``.
    Name templates under a folder of the plugin's name to avoid clashes.
    """
    raise NotImplementedError


@hookspec
def invigilator_authenticator() -> Any:
    """Return a callable that identifies who sent a request, or ``None``.

    Called once while the web app is built. Each callable is ``async (request) -> Principal |
    None`` (``webapp.keys.Principal``); on every request they are tried in plugin registration
    order and the first ``Principal`` wins, so a single sign-on plugin can sit beside the
    built-in accounts plugin. ``None`` from all of them means anonymous. A callable may raise
    ``core.errors.Unauthorized``/``Forbidden`` (a revoked session, a failed CSRF check), which
    answers the request with that error at once. Roles declared on routes are then enforced in
    one place by the web layer.
    """
    raise NotImplementedError


@hookspec
def invigilator_nav_items(roles: frozenset[str]) -> Iterable[tuple[str, str]] | None:
    """Return ``(label, href)`` links for the page header, for someone holding ``roles``.

    Called on every page render with the signed-in person's roles (empty when anonymous), so
    keep it a cheap, pure function. Each plugin adds the pages it owns, e.g. the proctor wall
    for ``"proctor"``. Links appear in plugin registration order.
    """
    raise NotImplementedError


@hookspec(firstresult=True)
def invigilator_grade_code(
    services: Services,
    payload: Mapping[str, Any],
    response: Mapping[str, Any],
    attempt_id: str,
    item: int,
) -> Awaitable[float | None] | None:
    """Grade a coding answer; return the share of its points earned, in [0, 1].

    Called by the exams plugin from a background job after an attempt is submitted, once per
    coding item. ``payload`` is the question's coding payload (languages, limits, sample and
    hidden tests, checker) and ``response`` the candidate's ``{language, code}``;
    ``attempt_id`` and ``item`` (the paper position) say whose answer it is, so a judge can
    record its verdict once and reuse it when the job is retried. Raise to have the job retried
    later (a backend that is down) rather than answer a score the code did not earn. The first
    plugin that answers grades it (a judge plugin); ``None`` from every plugin leaves the item
    in the manual grading queue. May be ``async``; it may take as long as the tests take.
    """
    raise NotImplementedError


@hookspec
def invigilator_attempt_starting(
    services: Services, exam_id: int, user_id: int, proctoring_policy: Mapping[str, Any]
) -> Awaitable[str | None] | str | None:
    """Veto a candidate's new attempt before it is created.

    Called by the exams plugin when a candidate asks to start an attempt, after the exam's own
    checks (window, attempts left) passed. ``proctoring_policy`` is the exam's stored policy.
    Return an error code (``"consent_required"``) to refuse: the candidate gets a 409 with that
    code and nothing is created; ``None`` lets the start go on. May be ``async``.
    """
    raise NotImplementedError


@hookspec
def invigilator_static_dirs() -> Mapping[str, Path]:
    """Return static asset folders by URL prefix, served under ``/static/<prefix>/``.

    Assets are served from this server only: pages load nothing from third-party hosts.
    """
    raise NotImplementedError


@hookspec
def invigilator_attempt_context(
    services: Services, attempt_id: str, exam_id: int, user_id: int
) -> Awaitable[Mapping[str, Any] | None] | Mapping[str, Any] | None:
    """Return what your detector needs to know about one attempt, keyed by your own names.

    Called by live proctoring when an attempt's stream is first seen in a process (and again
    after a reconnect to another process). The mappings of every plugin are merged and handed
    to detectors as ``Frame.context`` with every frame of that attempt: the identity detector
    puts the candidate's enrolled embedding there, the gaze detector their calibration. Keep
    it small (it lives as long as the stream) and prefix keys with your plugin's name. May be
    ``async``; one that raises is logged and left out.
    """
    raise NotImplementedError


@hookspec
def invigilator_register_rules() -> Iterable[Rule] | None:
    """Return the violation rules this plugin's detectors feed (``core.policy.Rule``).

    Called once when the plugin manager is built, before any exam policy is validated, so an
    examiner may tune these rules per exam like the built-in ones and reviewers see them in the
    score. A rule names the event kinds it reads (``observation.<your detector>``), its
    condition, timing and weights. Registering a kind another plugin registered differently
    stops the boot with both named.
    """
    raise NotImplementedError


@hookspec
def invigilator_register_detectors(services: Services) -> Iterable[AnyDetector] | None:
    """Return the detectors this plugin provides, built from its validated config section.

    Called once at start-up, before ``invigilator_startup``, with the opened services; read
    your section with ``services.section("detector_face", FaceConfig)`` and return the
    detectors it enables (none when it is switched off). Do not load models here: the pipeline
    calls each detector's blocking ``load()`` on the detector's own thread, and a detector whose
    model cannot load is logged and reported with its reason while the others run. A hook that
    raises is reported the same way for its plugin. Names must be unique across plugins.
    Video detectors implement ``core.detectors.Detector``; audio detectors declare
    ``DetectorNeeds(video=False, audio=True)`` and implement ``core.audio.AudioDetector``.
    """
    raise NotImplementedError


@hookspec
def invigilator_judge_backends() -> Mapping[str, Any] | None:
    """Return coding-judge backends by name: ``{"local": factory}``.

    Called once when the judge plugin starts. A factory takes the opened services and returns
    an object with the ``plugins.judge.backend.JudgeBackend`` shape (``languages()``,
    ``async run(request)``, ``async close()``). ``[judge] backend`` in ``plugins.toml`` picks
    one by name; the built-in ones are ``local`` (bubblewrap sandbox), ``judge0`` and
    ``sphere``. Names must be unique across plugins.
    """
    raise NotImplementedError


@hookspec
def invigilator_question_generators() -> Mapping[str, Any] | None:
    """Return AI question generators by name: ``{"openai": factory}``.

    Called once when the question-generation plugin starts. A factory takes the opened
    services and returns an object with the ``plugins.generation.backend.Generator`` shape.
    ``[generation] backend`` in ``plugins.toml`` picks one by name; the built-in ones are
    ``openai`` (any OpenAI-compatible chat API) and ``offline`` (works from study material
    with no network). Names must be unique across plugins.
    """
    raise NotImplementedError


@hookspec
def invigilator_domain_event(
    services: Services, name: str, data: Mapping[str, Any]
) -> Awaitable[None] | None:
    """Something happened that people may need to hear about.

    Emitted with ``core.domain_events.emit`` by the plugin that owns the fact, after it is
    committed: ``account.created``, ``account.password_reset``, ``exam.scheduled``,
    ``attempt.started``, ``attempt.submitted``, ``results.released``, ``violation.raised``,
    ``ticket.created``, ``ticket.replied``. ``data`` is JSON-safe and carries ids (user, exam,
    attempt) rather than whole records. The notifications plugin turns these into messages.
    Implementations must return quickly (queue a job for slow work); one that raises is logged
    and never fails the request that emitted the event. May be ``async``.
    """
    raise NotImplementedError
