import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../../renderer/src/lib/markdown';

describe('renderMarkdown (lab prompts)', () => {
  it('renders paragraphs, inline code, bold and italics', () => {
    expect(renderMarkdown('The namespace **shop** runs a `frontend`\n(port 80) *now*.\n\nSecond.')).toBe(
      '<p>The namespace <strong>shop</strong> runs a <code>frontend</code> (port 80) <em>now</em>.</p>\n<p>Second.</p>',
    );
  });
  it('renders fenced code verbatim and lists', () => {
    const html = renderMarkdown('Run:\n\n```sh\nip route get 10.244.1.5\n  via <gw>\n```\n- one `a`\n- two\n  continued\n1. first');
    expect(html).toContain('<pre><code class="lang-sh">ip route get 10.244.1.5\n  via &lt;gw&gt;</code></pre>');
    expect(html).toContain('<ul><li>one <code>a</code></li><li>two continued</li></ul>');
    expect(html).toContain('<ol><li>first</li></ol>');
  });
  it('escapes HTML everywhere, inside code too', () => {
    const html = renderMarkdown('<img src=x onerror=alert(1)> `<b>` **<i>**');
    expect(html).not.toMatch(/<img|<b>|<i>/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
  it('keeps snake_case words and globs intact', () => {
    expect(renderMarkdown('KUBE_SVC_X and a*b*c')).toBe('<p>KUBE_SVC_X and a*b*c</p>');
  });
});
