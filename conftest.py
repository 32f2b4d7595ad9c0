"""Every test and notebook run gets its own TOOLKIT_HOME, never the user's ~/.toolkit."""

import os
import tempfile

os.environ["TOOLKIT_HOME"] = tempfile.mkdtemp(prefix="toolkit-test-home-")
os.environ.pop("TOOLKIT_SANDBOX_URL", None)
os.environ.pop("TOOLKIT_DATABASE_URL", None)
os.environ.pop("TOOLKIT_SMTP_URL", None)
