import { describe, expect, it } from 'vitest';
import { checkName, formatContainerPorts, formatLabels, formatServicePorts, nextName, parseContainerPorts, parseLabels, parsePortProtocol, parseServicePorts } from '../../../renderer/src/lib/forms';

describe('form fields', () => {
  it('parses labels and says what is wrong', () => {
    expect(parseLabels('app=web, tier = frontend\napp.kubernetes.io/name=shop')).toEqual({ ok: true, value: { app: 'web', tier: 'frontend', 'app.kubernetes.io/name': 'shop' } });
    expect(parseLabels('')).toEqual({ ok: true, value: {} });
    expect(parseLabels('app')).toMatchObject({ ok: false, error: '"app" is not key=value' });
    expect(parseLabels('app=we b')).toMatchObject({ ok: false });
    expect(parseLabels('-x=1')).toMatchObject({ ok: false });
    expect(parseLabels('Bad_Prefix/x=1')).toMatchObject({ ok: false });
    expect(parseLabels('a=1,a=2')).toMatchObject({ ok: false, error: 'label a is given twice' });
    expect(formatLabels({ app: 'web', tier: 'x' })).toBe('app=web, tier=x');
  });

  it('parses container ports', () => {
    expect(parseContainerPorts('8080, 53/udp http:80/TCP')).toEqual({
      ok: true,
      value: [
        { containerPort: 8080, protocol: 'TCP' },
        { containerPort: 53, protocol: 'UDP' },
        { containerPort: 80, protocol: 'TCP', name: 'http' },
      ],
    });
    expect(parseContainerPorts('70000')).toMatchObject({ ok: false, error: '"70000": port 70000 is outside 1-65535' });
    expect(parseContainerPorts('80/ICMP')).toMatchObject({ ok: false });
    expect(parseContainerPorts('80,80/TCP')).toMatchObject({ ok: false, error: 'port 80/TCP is given twice' });
    expect(parseContainerPorts('1234:80')).toMatchObject({ ok: false });
    expect(formatContainerPorts([{ containerPort: 53, protocol: 'UDP', name: 'dns' }, { containerPort: 80, protocol: 'TCP' }])).toBe('dns:53/UDP, 80/TCP');
  });

  it('parses Service ports', () => {
    expect(parseServicePorts('80:8080/TCP, 53/UDP, 443:https')).toEqual({
      ok: true,
      value: [
        { port: 80, targetPort: 8080, protocol: 'TCP' },
        { port: 53, targetPort: 53, protocol: 'UDP' },
        { port: 443, targetPort: 'https', protocol: 'TCP' },
      ],
    });
    expect(parseServicePorts('80:0')).toMatchObject({ ok: false });
    expect(formatServicePorts([{ port: 80, targetPort: 8080, protocol: 'TCP' }, { port: 53, targetPort: 53, protocol: 'UDP' }])).toBe('80:8080/TCP, 53/UDP');
  });

  it('checks names and finds free ones', () => {
    expect(checkName('web-1', 'pod')).toBeNull();
    expect(checkName('Web', 'pod')).toMatch(/lowercase/);
    expect(checkName('', 'pod')).toMatch(/needs a name/);
    expect(nextName('pod', ['pod-1', 'pod-2'])).toBe('pod-3');
    expect(parsePortProtocol('8080/tcp')).toEqual({ ok: true, value: { port: 8080, protocol: 'TCP' } });
    expect(parsePortProtocol('x')).toMatchObject({ ok: false });
  });
});
