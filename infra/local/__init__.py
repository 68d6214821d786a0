"""The local stack: moto as AWS, the template's functions in this process (``make run``).

Powertools reads its service name and metrics namespace when loyalty's logger and metrics are
built, at the first import of ``loyalty.platform.observability``, which the modules of this
package already cause: they are set here, from template.yaml's Globals, before any of them runs.
"""

from __future__ import annotations

import os

from infra.template import load_template

_GLOBAL_ENVIRONMENT = load_template()["Globals"]["Function"]["Environment"]["Variables"]
for _name in ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"):
    os.environ.setdefault(_name, _GLOBAL_ENVIRONMENT[_name])
