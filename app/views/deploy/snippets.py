"""How to call an endpoint, as copyable code: curl and Python (httpx)."""

from __future__ import annotations


def curl_snippet(url: str, token: str) -> str:
    """A curl call of the endpoint's /predict with ``token`` (or a placeholder)."""
    return f'curl -X POST {url}/predict \\\n  -H "Authorization: Bearer {token}" \\\n  -F "file=@image.jpg"'


def python_snippet(url: str, token: str) -> str:
    """The same call in Python with httpx."""
    return ("import httpx\n\n"
            f'with open("image.jpg", "rb") as f:\n'
            f'    r = httpx.post("{url}/predict", headers={{"Authorization": "Bearer {token}"}},\n'
            f'                   files={{"file": f}}, timeout=30)\n'
            "print(r.json())")
