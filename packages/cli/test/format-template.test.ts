import { describe, expect, it } from 'vitest'
import { parseTemplate, TemplateError } from '../src/output/template.ts'
import { templateData } from '../src/output/template-eval.ts'
import { CliRig, cliOf, rowsOf } from './commands-rig.ts'

const service = templateData(
  { id: 'abc123', meta: { version: { index: 7n } }, spec: { annotations: { name: 'web', labels: { tier: 'front', 'com.x': 'y' } }, mode: { replicated: { replicas: 2 } } }, cert: new Uint8Array([1, 2]), ports: [80, 443], empty: [] },
  { ID: 'abc1', Name: 'web', Replicas: '2/2' },
)
const render = (format: string, data: unknown = service): string => parseTemplate(format).execute(data)
const failure = (format: string, data: unknown = service): string => {
  try {
    render(format, data)
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError)
    return (err as Error).message
  }
  throw new Error(`${format} did not fail`)
}

describe('--format Go templates', () => {
  it("reads fields as Docker's: columns by their Docker name, object keys ignoring case, annotations promoted into Spec", () => {
    expect(render('{{.ID}}\\t{{.Name}}\\t{{.Replicas}}')).toBe('abc1\tweb\t2/2')
    expect(render('{{.Spec.Name}} {{.Spec.Labels.tier}} {{.Meta.Version.Index}} {{.Cert}}')).toBe('web front 7 AQI=')
    expect(render('{{index .Spec.Labels "com.x"}} {{index .Ports 1}}')).toBe('y 443')
    expect(render('{{.Spec.Labels}} {{.Ports}} {{.Missing}} {{.Missing.Deeper}}')).toBe('map[com.x:y tier:front] [80 443] <no value> <no value>')
  })

  it('prints json (of the object, not the columns), pipes into functions, and evaluates if and range', () => {
    expect(render('{{json .Spec.Mode}}')).toBe('{"replicated":{"replicas":2}}')
    expect(JSON.parse(render('{{json .}}'))).toEqual({ id: 'abc123', meta: { version: { index: '7' } }, spec: { annotations: { name: 'web', labels: { tier: 'front', 'com.x': 'y' } }, mode: { replicated: { replicas: 2 } } }, cert: 'AQI=', ports: [80, 443], empty: [] })
    expect(render('{{.Spec.Name | upper}} {{lower "AB"}} {{title "web front"}} {{join .Ports ","}} {{len .Ports}} {{truncate .ID 3}} {{(index .Spec.Labels "tier") | upper}}')).toBe('WEB ab Web Front 80,443 2 abc FRONT')
    expect(render('{{if .Empty}}yes{{else}}no{{end}} {{if .Spec.Labels}}labels{{end}}')).toBe('no labels')
    expect(render('{{range .Ports}}<{{.}}>{{end}}{{range .Empty}}x{{else}} none{{end}}')).toBe('<80><443> none')
    expect(render('{{range .Spec.Labels}}{{.}};{{end}}')).toBe('y;front;')
    expect(render('a  {{- .ID -}}  b\\n')).toBe('aabc1b\n')
  })

  it('refuses a bad template with a TemplateError naming the problem', () => {
    expect(failure('{{.ID')).toBe('--format: template: unclosed action at 1')
    expect(failure('{{exec "rm"}}')).toBe('--format: template: function "exec" not defined')
    expect(failure('{{if .ID}}x')).toBe('--format: template: unclosed {{if}} at 1')
    expect(failure('x{{end}}')).toBe('--format: template: unexpected {{end}} at 2')
    expect(failure('{{$x := .ID}}')).toBe('--format: template: {{$x := .ID}} is not supported at 1')
    expect(failure('{{.ID.Foo}}')).toBe("--format: template: can't evaluate field Foo in type string")
    expect(failure('{{index .Ports 5}}')).toBe('--format: template: index: index out of range: 5')
    expect(failure('{{upper .Ports}}')).toBe('--format: template: upper: expected a string, got slice')
    expect(failure('{{.ID .Name}}')).toBe('--format: template: 2 values without a function in action at 1')
  })

  it('gives a table template the header of its columns', () => {
    const t = parseTemplate('table {{.ID}}\\t{{.Spec.Name}}\\t{{.DesiredState}}\\t{{json .Spec}}')
    expect(t.table).toBe(true)
    expect(t.header({ ID: 'ID', DesiredState: 'DESIRED STATE' })).toBe('ID\tNAME\tDESIRED STATE\tSPEC')
  })
})

describe('swarmkit --format <template>', { timeout: 60_000 }, () => {
  const rig = new CliRig()

  it('renders ls, ps and inspect with a template, a table template with a header, and fails with exit 1 on a bad one', async () => {
    const m = await rig.init()
    const cli = cliOf(m)
    expect((await cli('service', 'create', '-d', '--name', 'web', '--replicas', '2', '--label', 'tier=front', 'busybox:fake', 'sleep', '3600')).code).toBe(0)
    expect((await cli('service', 'create', '-d', '--name', 'api', 'busybox:fake', 'sleep', '3600')).code).toBe(0)
    const web = await m.services.get('web')
    expect(await cli('service', 'ls', '--format', '{{.Name}} {{.Mode}} {{index .Spec.Labels "tier"}}')).toEqual({ code: 0, stdout: 'api replicated <no value>\nweb replicated front\n', stderr: '' })
    expect(rowsOf((await cli('service', 'ls', '--format', 'table {{.ID}}\\t{{.Spec.Name}}\\t{{.Image}}')).stdout)).toEqual([
      ['ID', 'NAME', 'IMAGE'],
      [(await m.services.get('api')).id.slice(0, 12), 'api', 'busybox:fake'],
      [web.id.slice(0, 12), 'web', 'busybox:fake'],
    ])
    expect(await cli('service', 'inspect', '--format', '{{.ID}} {{json .Spec.Mode}}', 'web')).toEqual({ code: 0, stdout: `${web.id} {"replicated":{"replicas":2}}\n`, stderr: '' })
    expect(await cli('--format', '{{.Spec.Name}}', 'service', 'inspect', 'web', 'api')).toEqual({ code: 0, stdout: 'web\napi\n', stderr: '' })
    const ps = await cli('service', 'ps', '--format', '{{.Name}} {{.DesiredState}}', 'web')
    expect(ps).toEqual({ code: 0, stdout: 'web.1 Running\nweb.2 Running\n', stderr: '' })
    expect(await cli('node', 'ls', '--format', '{{.Hostname}} {{.Self}} {{.Role}} {{.Spec.DesiredRole}}')).toEqual({ code: 0, stdout: 'm1 true manager manager\n', stderr: '' })
    expect(await cli('service', 'ls', '--format', '{{.Name')).toEqual({ code: 1, stdout: '', stderr: 'swarmkit: InvalidArgumentError: --format: template: unclosed action at 1\n' })
    expect(await cli('service', 'inspect', '--format', '{{.ID.First}}', 'web')).toEqual({ code: 1, stdout: '', stderr: "swarmkit: InvalidArgumentError: --format: template: can't evaluate field First in type string\n" })
  })
})
