// What the detectors read of a record through the AttributeView: the record's
// attribute (the first of a repeated name), else the resource's; attributes the
// scorer appends while scoring are not read back; a reused view follows its record.
import { describe, expect, it } from 'vitest';
import { AttributeView } from '../../../src/processors/anomaly/attr-ref.js';
import { kv, makeRecord } from '../../helpers/records.js';

describe('AttributeView', () => {
  it('reads the first of a repeated name, and the resource only for names the record lacks', () => {
    const rec = makeRecord({ attrs: { 'user.id': 'alice' } });
    rec.log.attributes.push(kv('user.id', 'second'), kv('http.route', '/a'));
    rec.resource.resource.attributes.push(kv('user.id', 'from-resource'), kv('deployment.environment.name', 'prod'));
    const view = AttributeView.of(rec);
    expect(view.get('user.id')).toBe('alice');
    expect(view.get('http.route')).toBe('/a');
    expect(view.get('deployment.environment.name')).toBe('prod');
    expect(view.get('service.name')).toBe('test');
    expect(view.get('absent')).toBeUndefined();
    expect(view.has('user.id')).toBe(true);
    expect(view.has('deployment.environment.name')).toBe(false);
  });

  it('does not see attributes appended after it was pointed at the record', () => {
    const rec = makeRecord({ attrs: { 'anomaly.score': 0.5 } });
    const view = AttributeView.of(rec);
    rec.log.attributes.push(kv('anomaly.detected', true));
    expect(view.has('anomaly.score')).toBe(true);
    expect(view.has('anomaly.detected')).toBe(false);
    expect(view.get('anomaly.detected')).toBeUndefined();
  });

  it('follows the record it is reset to, the resource lookups included', () => {
    const a = makeRecord({ attrs: { 'user.id': 'alice' } });
    const b = makeRecord({ attrs: { 'client.address': '203.0.113.7' }, resource: { resource: { attributes: [kv('user.id', 'svc')] }, schemaUrl: '' } });
    const view = new AttributeView();
    for (let i = 0; i < 3; i++) {
      view.reset(a);
      expect(view.get('user.id')).toBe('alice');
      expect(view.get('client.address')).toBeUndefined();
      view.reset(b);
      expect(view.get('user.id')).toBe('svc');
      expect(view.get('client.address')).toBe('203.0.113.7');
      expect(view.has('user.id')).toBe(false);
    }
  });
});
