import { describe, expect, it } from 'vitest';
import { injectionDecision } from './injection';
import { nsYaml, pod, podYaml, topo, HEADER } from './testkit';

const t = topo(
  nsYaml('on', { 'istio-injection': 'enabled' }) +
    nsYaml('off') +
    nsYaml('disabled', { 'istio-injection': 'disabled' }) +
    nsYaml('rev', { 'istio.io/rev': 'default' }) +
    nsYaml('canary', { 'istio.io/rev': 'canary' }) +
    nsYaml('kube-system', { 'istio-injection': 'enabled' }) +
    podYaml({ ns: 'on', name: 'plain', ip: '10.244.1.2' }) +
    podYaml({ ns: 'on', name: 'label-false', ip: '10.244.1.3', labels: { 'sidecar.istio.io/inject': 'false' } }) +
    podYaml({ ns: 'on', name: 'annotation-false', ip: '10.244.1.4', annotations: { 'sidecar.istio.io/inject': 'false' } }) +
    podYaml({ ns: 'on', name: 'host', ip: '10.0.1.5', hostNetwork: true }) +
    podYaml({ ns: 'on', name: 'yes', ip: '10.244.1.5', labels: { 'sidecar.istio.io/inject': 'yes' } }) +
    podYaml({ ns: 'off', name: 'label-true', ip: '10.244.1.6', labels: { 'sidecar.istio.io/inject': 'true' } }) +
    podYaml({ ns: 'off', name: 'annotation-true', ip: '10.244.1.7', annotations: { 'sidecar.istio.io/inject': 'true' } }) +
    podYaml({ ns: 'off', name: 'both', ip: '10.244.1.8', labels: { 'sidecar.istio.io/inject': 'true' }, annotations: { 'sidecar.istio.io/inject': 'false' } }) +
    podYaml({ ns: 'off', name: 'rev-label', ip: '10.244.1.9', labels: { 'istio.io/rev': 'default' } }) +
    podYaml({ ns: 'off', name: 'nothing', ip: '10.244.1.10' }) +
    podYaml({ ns: 'disabled', name: 'label-true', ip: '10.244.1.11', labels: { 'sidecar.istio.io/inject': 'true' } }) +
    podYaml({ ns: 'rev', name: 'p', ip: '10.244.1.12' }) +
    podYaml({ ns: 'canary', name: 'p', ip: '10.244.1.13' }) +
    podYaml({ ns: 'kube-system', name: 'p', ip: '10.244.1.14' }),
);

describe('sidecar injection', () => {
  const cases: [string, boolean, string | undefined, RegExp][] = [
    ['on/plain', true, 'namespace.sidecar-injector.istio.io', /istio-injection=enabled/],
    ['on/label-false', false, undefined, /opts out with the label sidecar.istio.io\/inject=false/],
    // the namespace webhook is called (object selectors see no label), then the injector reads the annotation
    ['on/annotation-false', false, 'namespace.sidecar-injector.istio.io', /annotation sidecar.istio.io\/inject: "false" \(deprecated annotation, still honoured\)/],
    ['on/host', false, undefined, /hostNetwork pods are never injected/],
    ['on/yes', true, 'namespace.sidecar-injector.istio.io', /istio-injection=enabled/],
    ['off/label-true', true, 'object.sidecar-injector.istio.io', /label sidecar.istio.io\/inject=true/],
    ['off/annotation-true', false, undefined, /only the ANNOTATION .* injector is never called/],
    ['off/both', true, 'object.sidecar-injector.istio.io', /label sidecar.istio.io\/inject=true/],
    ['off/rev-label', true, 'rev.object.sidecar-injector.istio.io', /istio.io\/rev=default/],
    ['off/nothing', false, undefined, /not labelled istio-injection=enabled/],
    ['disabled/label-true', false, undefined, /istio-injection=disabled: no webhook selects its pods/],
    ['rev/p', true, 'rev.namespace.sidecar-injector.istio.io', /istio.io\/rev=default/],
    ['canary/p', false, undefined, /no istiod of that revision is installed/],
    ['kube-system/p', false, 'namespace.sidecar-injector.istio.io', /skips the kube-system namespace/],
  ];
  for (const [ref, injected, webhook, reason] of cases) {
    it(`${ref}: ${injected ? 'injected' : 'not injected'}`, () => {
      const d = injectionDecision(t, pod(t, ref));
      expect(d.injected).toBe(injected);
      expect(d.webhook).toBe(webhook);
      expect(d.reason).toMatch(reason);
    });
  }

  it('explains the seed\'s annotation and the label/annotation precedence', () => {
    expect(injectionDecision(t, pod(t, 'off/annotation-true')).seedNote).toMatch(/LABEL sidecar.istio.io\/inject/);
    expect(injectionDecision(t, pod(t, 'off/both')).notes.join()).toMatch(/the label wins/);
    expect(injectionDecision(t, pod(t, 'on/yes')).notes.join()).toMatch(/invalid value for sidecar.istio.io\/inject: "yes"/);
    expect(injectionDecision(t, pod(t, 'on/plain')).seedNote).toBeUndefined();
  });

  it('follows installed revisions, the injector policy and enableNamespacesByDefault', () => {
    const c = injectionDecision(t, pod(t, 'canary/p'), { revisions: ['default', 'canary'] });
    expect([c.injected, c.revision, c.webhook]).toEqual([true, 'canary', 'rev.namespace.sidecar-injector.istio.io']);
    expect(injectionDecision(t, pod(t, 'on/yes'), { autoInject: 'disabled' }).injected).toBe(false);
    expect(injectionDecision(t, pod(t, 'on/plain'), { autoInject: 'disabled' }).injected).toBe(false);
    expect(injectionDecision(t, pod(t, 'off/label-true'), { autoInject: 'disabled' }).injected).toBe(true);
    expect(injectionDecision(t, pod(t, 'off/nothing'), { enableNamespacesByDefault: true }).webhook).toBe('auto.sidecar-injector.istio.io');
    expect(injectionDecision(t, pod(t, 'on/plain'), { cni: true }).redirection).toBe('istio-cni');
  });

  it('never injects when the mesh is off', () => {
    const off = topo(nsYaml('on', { 'istio-injection': 'enabled' }) + podYaml({ ns: 'on', name: 'a', ip: '10.244.1.2' }), HEADER.replace('mesh: true', 'mesh: false'));
    const d = injectionDecision(off, pod(off, 'on/a'));
    expect(d.injected).toBe(false);
    expect(d.reason).toMatch(/settings.mesh.enabled=false/);
  });
});
