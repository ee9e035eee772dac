"""The `/api/v1` router: includes every domain router and nothing else."""

from fastapi import APIRouter

api_router = APIRouter(prefix="/api/v1")
