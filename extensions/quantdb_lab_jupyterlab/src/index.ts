/**
 * The "QuantDB Lab" side panel: cache state and mode from the server extension's /quantdb-lab/stats,
 * refreshed every few seconds, and buttons opening each dashboard as a notebook or under Voila. A click asks
 * POST /quantdb-lab/dashboards/<name> where to open it from: the notebook itself when it lies under the server
 * root, else a copy the server places in quantdb_lab_dashboards/ (the dashboards come with the package), so
 * the buttons work whatever folder JupyterLab was started in.
 */
import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

const PANEL_ID = 'quantdb-lab-panel';
const POLL_MS = 3000;

const ICON = new LabIcon({
  name: 'quantdb-lab:icon',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<rect x="3" y="13" width="4" height="8"/><rect x="10" y="8" width="4" height="13"/>' +
    '<rect x="17" y="3" width="4" height="18"/></g></svg>'
});

interface IDashboard {
  name: string;
  title: string;
  description: string;
  path: string | null; // relative to the server root, or null until its copy is placed there
}

interface IStats {
  summary: {
    mode: string;
    provider: string;
    series: number;
    rows_on_disk: number;
    bytes_on_disk: number;
    upstream_calls_all_kernels: number;
    breaker: string;
  };
  datasets: { dataset: string; series: number; rows: number; bytes: number }[];
  throttle: { host_family: string; breaker: string; tokens: number; calls: number }[];
  cache_dir: string;
  dashboards: IDashboard[];
}

async function fetchStats(settings: ServerConnection.ISettings): Promise<IStats> {
  const url = URLExt.join(settings.baseUrl, 'quantdb-lab', 'stats');
  const response = await ServerConnection.makeRequest(url, {}, settings);
  if (!response.ok) {
    throw new Error(`GET /quantdb-lab/stats: ${response.status} ${response.statusText}`);
  }
  return (await response.json()) as IStats;
}

async function dashboardPath(settings: ServerConnection.ISettings, name: string): Promise<string> {
  const url = URLExt.join(settings.baseUrl, 'quantdb-lab', 'dashboards', encodeURIComponent(name));
  const response = await ServerConnection.makeRequest(url, { method: 'POST' }, settings);
  if (!response.ok) {
    throw new Error(`POST /quantdb-lab/dashboards/${name}: ${response.status} ${response.statusText}`);
  }
  return ((await response.json()) as { path: string }).path;
}

function humanBytes(count: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function cell(tag: string, text: string, className?: string): HTMLElement {
  const element = document.createElement(tag);
  element.textContent = text;
  if (className) {
    element.className = className;
  }
  return element;
}

class QuantdbPanel extends Widget {
  constructor(
    private readonly settings: ServerConnection.ISettings,
    private readonly openNotebook: (path: string) => void
  ) {
    super();
    this.id = PANEL_ID;
    this.addClass('qdb-panel');
    this.title.icon = ICON;
    this.title.caption = 'QuantDB Lab';
    this.node.appendChild(cell('h2', 'QuantDB Lab'));
    const refresh = cell('button', 'Refresh', 'jp-Button jp-mod-styled qdb-refresh');
    refresh.addEventListener('click', () => void this.refresh());
    this.node.appendChild(refresh);
    this.node.appendChild(this.body);
    this.node.appendChild(this.updated);
  }

  private readonly body = cell('div', 'loading ...', 'qdb-body');
  private readonly updated = cell('p', '', 'qdb-updated');
  private timer: number | undefined;
  private dashboardsShown = '';

  protected onAfterAttach(): void {
    void this.refresh();
    this.timer = window.setInterval(() => void this.refresh(), POLL_MS);
  }

  protected onBeforeDetach(): void {
    window.clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    try {
      this.render(await fetchStats(this.settings));
      this.updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      this.body.replaceChildren(cell('p', String(error), 'qdb-error'));
    }
  }

  private render(stats: IStats): void {
    const s = stats.summary;
    const rows: [string, string, string][] = [
      ['mode', s.mode, 'qdb-mode'],
      ['provider', s.provider, 'qdb-provider'],
      ['series cached', String(s.series), 'qdb-series'],
      ['rows on disk', String(s.rows_on_disk), 'qdb-rows'],
      ['on disk', humanBytes(s.bytes_on_disk), 'qdb-bytes'],
      ['upstream calls', String(s.upstream_calls_all_kernels), 'qdb-calls'],
      ['breaker', s.breaker, 'qdb-breaker']
    ];
    const table = document.createElement('table');
    table.className = 'qdb-summary';
    for (const [label, value, name] of rows) {
      const tr = document.createElement('tr');
      tr.append(cell('td', label), cell('td', value, `qdb-value ${name}`));
      table.appendChild(tr);
    }
    const datasets = document.createElement('table');
    datasets.className = 'qdb-datasets';
    for (const d of stats.datasets) {
      const tr = document.createElement('tr');
      tr.append(cell('td', d.dataset), cell('td', `${d.series} series`, 'qdb-value'), cell('td', humanBytes(d.bytes), 'qdb-value'));
      datasets.appendChild(tr);
    }
    const parts: HTMLElement[] = [table, cell('h3', 'Datasets'), datasets];
    parts.push(cell('h3', 'Dashboards'), this.dashboards(stats.dashboards));
    this.body.replaceChildren(...parts);
  }

  private dashboardList: HTMLElement = cell('div', '');

  private dashboards(dashboards: IDashboard[]): HTMLElement {
    const key = JSON.stringify(dashboards);
    if (key === this.dashboardsShown) {
      return this.dashboardList; // keep the buttons (and focus) while the numbers refresh
    }
    this.dashboardsShown = key;
    const list = cell('div', '', 'qdb-dashboards');
    for (const d of dashboards) {
      const open = cell('button', d.title, 'jp-Button jp-mod-styled qdb-open');
      const voila = cell('button', 'Voila', 'jp-Button jp-mod-styled qdb-voila');
      voila.title = 'Open this dashboard under Voila in a new tab';
      const where = d.path === null ? 'a copy in quantdb_lab_dashboards/ (made on first use)' : d.path;
      open.title = `${d.description}\nOpen ${where}`;
      open.addEventListener('click', () => void this.openDashboard(d.name, path => this.openNotebook(path)));
      voila.addEventListener('click', () => {
        // Opened synchronously with the click (popup blockers), pointed at the dashboard once its path is known.
        const tab = window.open('', '_blank');
        void this.openDashboard(d.name, path => {
          const url = URLExt.join(this.settings.baseUrl, 'voila', 'render', path);
          if (tab) {
            tab.location.href = url;
          } else {
            window.open(url, '_blank');
          }
        });
      });
      const row = cell('div', '', 'qdb-dashboard');
      row.dataset.name = d.name;
      row.append(open, voila);
      list.appendChild(row);
    }
    this.dashboardList = list;
    return list;
  }

  private async openDashboard(name: string, show: (path: string) => void): Promise<void> {
    try {
      show(await dashboardPath(this.settings, name));
    } catch (error) {
      this.updated.textContent = String(error);
    }
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'quantdb-lab-jupyterlab:plugin',
  description: 'A side panel with the QuantDB Lab cache state, mode and dashboards.',
  autoStart: true,
  // Optional, and no other JupyterLab token imported: Voila loads installed extensions too, has no lab
  // shell, and lacks some of JupyterLab's shared modules; there the plugin does nothing.
  optional: [ILabShell],
  activate: (app: JupyterFrontEnd, shell: ILabShell | null) => {
    if (!shell) {
      return;
    }
    const settings = ServerConnection.makeSettings();
    const open = (path: string) => void app.commands.execute('docmanager:open', { path });
    const panel = new QuantdbPanel(settings, open);
    shell.add(panel, 'left', { rank: 900 });
    app.commands.addCommand('quantdb-lab:show-panel', {
      label: 'Show the QuantDB Lab panel',
      execute: () => shell.activateById(PANEL_ID)
    });
  }
};

export default plugin;
