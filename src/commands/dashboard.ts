// `cutover dashboard`: where the live dashboard is (the admin listener's /dashboard), and whether
// it answers now. It opens nothing itself: on a server there may be no browser to open.
import { loadConfigFile } from '../config/load.js';
import { CutoverError } from '../errors.js';
import { ADMIN_HELP, adminOptions, out, targetOf, type Command } from './command.js';

export const dashboardCommands: Record<string, Command> = {
  dashboard: {
    summary: 'print the URL of the live dashboard (GET /dashboard on the admin listener)',
    usage: `cutover dashboard [--config FILE | --admin URL]${ADMIN_HELP}

  Prints the URL to open in a browser. With an admin token configured the page asks for it (or
  for the read-only token, admin.readOnlyTokenFile) and keeps it in that browser tab only.
  In Kubernetes: kubectl port-forward deploy/cutover 9901, then open the printed URL.`,
    options: adminOptions,
    async run(v) {
      if (v.config !== undefined) {
        const { config, file } = loadConfigFile(String(v.config));
        if (!config.admin.dashboard) throw new CutoverError('dashboard_disabled', `${file}: admin.dashboard is false, the admin listener serves no dashboard`);
      }
      const target = targetOf(v);
      const url = `${target.url}/dashboard`;
      out(url);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        if (res.status === 404) process.stderr.write(`${url} answers 404: this cutover serves no dashboard (admin.dashboard: false, or an older version)\n`);
        else if (!res.ok) process.stderr.write(`${url} answers ${res.status}\n`);
        else process.stderr.write(target.token ? 'the page asks for the admin token (or the read-only one)\n' : 'the page connects without a token if the admin listener has none\n');
      } catch {
        process.stderr.write(`not reachable now (is cutover running? --admin URL or --config FILE say where)\n`);
      }
      return 0;
    },
  },
};
