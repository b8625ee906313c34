// What the UI exposes for tests and debugging.
interface NetlabDebugInfo {
  nodeCount: number;
  podCount: number;
  serviceCount: number;
  edgeCount: number;
  revision: number;
  transport: 'ipc' | 'websocket' | null;
}

interface Window {
  __netlab?: NetlabDebugInfo;
}

declare module '*.css';
