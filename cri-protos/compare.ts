// Checks cri-protos/api.proto against an upstream CRI v1 api.proto:
// every service method, message field and enum value we declare must exist
// upstream with the same name, number, type and label.
//   node cri-protos/compare.ts /path/to/upstream/api.proto
import protobuf from 'protobufjs';

const ours = protobuf.loadSync(new URL('./api.proto', import.meta.url).pathname).resolveAll();
const upstreamPath = process.argv[2];
if (!upstreamPath) {
  process.stderr.write('usage: node cri-protos/compare.ts UPSTREAM_API_PROTO\n');
  process.exit(2);
}
const theirs = protobuf.loadSync(upstreamPath).resolveAll();
const problems: string[] = [];

function visit(ns: protobuf.NamespaceBase): void {
  for (const obj of ns.nestedArray) {
    const other = theirs.lookup(obj.fullName);
    if (!other) {
      problems.push(`${obj.fullName}: not upstream`);
      continue;
    }
    if (obj instanceof protobuf.Type && other instanceof protobuf.Type) {
      for (const f of obj.fieldsArray) {
        const o = other.fields[f.name];
        if (!o) problems.push(`${obj.fullName}.${f.name}: no such field upstream`);
        else if (o.id !== f.id || o.type !== f.type || o.rule !== f.rule || o.map !== f.map) {
          problems.push(`${obj.fullName}.${f.name}: ours ${f.rule ?? ''} ${f.type} = ${f.id}, upstream ${o.rule ?? ''} ${o.type} = ${o.id}`);
        }
      }
    } else if (obj instanceof protobuf.Enum && other instanceof protobuf.Enum) {
      for (const [name, value] of Object.entries(obj.values)) {
        if (other.values[name] !== value) problems.push(`${obj.fullName}.${name}: ours ${value}, upstream ${other.values[name]}`);
      }
    } else if (obj instanceof protobuf.Service && other instanceof protobuf.Service) {
      for (const m of obj.methodsArray) {
        const o = other.methods[m.name];
        if (!o || o.requestType !== m.requestType || o.responseType !== m.responseType || !!o.responseStream !== !!m.responseStream) {
          problems.push(`${obj.fullName}.${m.name}: differs from upstream`);
        }
      }
    }
    if (obj instanceof protobuf.Namespace) visit(obj);
  }
}

visit(ours);
if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('cri-protos/api.proto matches upstream\n');
