"""FastAPI dependencies: the request's session, settings, clock, store and caller.

Routes declare what they need with the ``Annotated`` aliases below; the permission check is
``Depends(requires(Permission.x))`` and object scope is checked in the services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from audit_service.authz import Permission, Principal
from audit_service.config import ServiceSettings
from audit_service.core.clock import Clock
from audit_service.core.errors import Unauthenticated
from audit_service.evidence.store import EvidenceStore

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: services flush, this commits once or rolls back."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def get_store(request: Request) -> EvidenceStore:
    return request.app.state.evidence_store


# scope="function": commit before the response is sent, so a failed commit is never a 2xx.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
ClockDep = Annotated[Clock, Depends(get_clock)]
StoreDep = Annotated[EvidenceStore, Depends(get_store)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


ClientIpDep = Annotated[str, Depends(client_ip)]


def get_principal(
    session: SessionDep,
    settings: SettingsDep,
    clock: ClockDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    # Imported here: accounts.service imports this module's siblings.
    from audit_service.accounts import service as accounts_service

    if not token:
        raise Unauthenticated("missing bearer token; log in at /api/v1/auth/token")
    return accounts_service.principal_from_token(
        session, token=token, secret=settings.secret_key.get_secret_value(), now=clock()
    )


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def requires(permission: Permission) -> Callable[[Principal], Principal]:
    def _check(principal: PrincipalDep) -> Principal:
        principal.require(permission)
        return principal

    _check.__name__ = f"requires_{permission.name}"
    return _check


def Requires(permission: Permission) -> type[Principal]:
    """``caller: Requires(Permission.org_read)`` - the caller, checked for the permission."""
    return Annotated[Principal, Depends(requires(permission))]  # type: ignore[return-value]
