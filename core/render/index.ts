// core/render: what real tools print for the model. Renderers register by
// name (registerRenderer) and are run with render(name, topology, opts).

export * from './registry';
export * from './iproute';
export { selectNamespace, registerCniRenderers } from './cni';
export { registerServiceRenderers, conntrackForFlows } from './services';
export { registerMeshRenderers } from '../mesh/render';
export { registerTraceRenderers } from './trace';
