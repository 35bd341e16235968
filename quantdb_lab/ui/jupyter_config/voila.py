# Voila's configuration for the dashboards' server (found through --Voila.config_file_paths, see voila_server.py).
from quantdb_lab.ui.voila_hooks import issue_xsrf_cookie

c = get_config()  # noqa: F821 - traitlets provides get_config() to a config file
c.VoilaConfiguration.prelaunch_hook = issue_xsrf_cookie
