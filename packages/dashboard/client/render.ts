/**
 * Draws the model: node columns with task cards, the services table, the Raft panel. Every user
 * string goes in through `textContent` (or a property), never as markup. Columns are virtualized:
 * a column's cards exist only while the column is near the viewport (an IntersectionObserver),
 * and a column shows at most {@link MAX_CARDS} cards; the rest is counted.
 */
import type { ServiceView, TaskView } from '../src/view-model.ts'
import { age, formatResources, holdsResources, UNASSIGNED, type Model } from './model.ts'

/** Cards drawn per column at most. */
export const MAX_CARDS = 60
/** A card's height and the gap between cards, in em (app.css: `.task` height, `.cards` gap). */
const CARD_EM = 5.8
const GAP_EM = 0.3

/** Keeps the room of `n` cards in a column whose cards are not drawn (so columns do not move when they are). */
function reserve(cards: HTMLElement, n: number): void {
  cards.style.height = n === 0 ? '' : `${n * CARD_EM + (n - 1) * GAP_EM}em`
}

/** What the buttons do (given only when the page may act). */
export interface ActionHandlers {
  scale(serviceId: string, replicas: number): void
  rollback(serviceId: string): void
  setAvailability(nodeId: string, availability: string): void
}

/** A new element with a class and text. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (className !== '') e.className = className
  if (text !== undefined) e.textContent = text
  return e
}

function chips(labels: Readonly<Record<string, string>>): HTMLElement[] {
  return Object.entries(labels).map(([k, v]) => el('span', 'chip', v === '' ? k : `${k}=${v}`))
}

interface Column {
  readonly root: HTMLDivElement
  readonly name: HTMLSpanElement
  readonly mark: HTMLSpanElement
  readonly line: HTMLDivElement
  readonly resources: HTMLDivElement
  readonly labels: HTMLDivElement
  readonly button: HTMLButtonElement
  readonly cards: HTMLDivElement
  readonly more: HTMLDivElement
  visible: boolean
  stale: boolean
}

/** The page's renderer. */
export class Renderer {
  readonly #model: Model
  readonly #nodesEl = document.getElementById('nodes') as HTMLDivElement
  readonly #servicesBody = document.querySelector('#services tbody') as HTMLTableSectionElement
  readonly #raftBody = document.querySelector('#raft tbody') as HTMLTableSectionElement
  readonly #raftSummary = document.getElementById('raft-summary') as HTMLParagraphElement
  readonly #summary = document.getElementById('summary') as HTMLSpanElement
  readonly #columns = new Map<string, Column>()
  readonly #cards = new Map<string, HTMLDivElement>()
  readonly #rows = new Map<string, HTMLTableRowElement>()
  readonly #observer: IntersectionObserver
  #actions: ActionHandlers | undefined
  #filter = ''
  #frame = 0

  readonly #onDrawn: () => void

  /** `onDrawn` runs after each draw. */
  constructor(model: Model, onDrawn: () => void = () => undefined) {
    this.#model = model
    this.#onDrawn = onDrawn
    this.#observer = new IntersectionObserver((entries) => this.#onIntersect(entries), { rootMargin: '100% 0px' })
  }

  /** Enables (or disables) the action buttons. */
  setActions(actions: ActionHandlers | undefined): void {
    this.#actions = actions
    document.body.classList.toggle('can-act', actions !== undefined)
    for (const [id, c] of this.#columns) this.#drawHeader(id, c)
    for (const id of this.#model.services.keys()) this.#drawService(id)
  }

  /** Shows only the columns whose name, role or labels contain `text`. */
  setFilter(text: string): void {
    this.#filter = text.toLowerCase()
    for (const [id, c] of this.#columns) c.root.classList.toggle('hidden', !this.#matches(id))
  }

  /** Draws what is dirty at the next animation frame (once per frame). */
  schedule(): void {
    if (this.#frame !== 0) return
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0
      this.draw()
    })
  }

  /** Draws what is dirty now. */
  draw(): void {
    const m = this.#model
    const d = m.takeDirty()
    if (d.all) {
      this.#rebuild()
    } else {
      for (const id of d.removedTasks) {
        this.#cards.get(id)?.remove()
        this.#cards.delete(id)
      }
      let reorder = false
      for (const id of d.removedColumns) {
        this.#columns.get(id)?.root.remove()
        this.#columns.delete(id)
      }
      for (const id of d.columns) {
        if (!this.#columns.has(id)) reorder = true
        this.#drawColumn(id)
      }
      if (reorder) this.#orderColumns()
      for (const id of d.tasks) {
        const card = this.#cards.get(id)
        const t = m.tasks.get(id)
        if (card !== undefined && t !== undefined) fillCard(card, t, m.now)
      }
      for (const id of d.removedServices) {
        this.#rows.get(id)?.remove()
        this.#rows.delete(id)
      }
      for (const id of d.services) this.#drawService(id)
      if (d.services.size > 0) this.#orderRows()
      if (d.raft) this.#drawRaft()
    }
    this.#summary.textContent = `${m.nodes.size} nodes · ${m.tasks.size} tasks · ${m.services.size} services`
    this.#onDrawn()
  }

  /** Redraws the ages of the drawn cards (the clock moved). */
  refreshAges(): void {
    for (const [id, card] of this.#cards) {
      const t = this.#model.tasks.get(id)
      if (t !== undefined) (card.lastElementChild as HTMLElement).textContent = `age ${age(this.#model.now - t.createdAt)}`
    }
  }

  #rebuild(): void {
    for (const c of this.#columns.values()) this.#observer.unobserve(c.root)
    this.#columns.clear()
    this.#cards.clear()
    this.#nodesEl.replaceChildren()
    this.#rows.clear()
    this.#servicesBody.replaceChildren()
    for (const id of this.#columnIds()) this.#drawColumn(id)
    this.#orderColumns()
    for (const id of this.#model.services.keys()) this.#drawService(id)
    this.#orderRows()
    this.#drawRaft()
  }

  #columnIds(): string[] {
    const ids = [...this.#model.nodes.keys()]
    if ((this.#model.tasksByNode.get(UNASSIGNED)?.size ?? 0) > 0) ids.push(UNASSIGNED)
    return ids
  }

  #orderColumns(): void {
    const nodes = this.#model.nodes
    const key = (id: string): string => {
      const n = nodes.get(id)
      return n === undefined ? '2' : `${n.role === 'manager' ? '0' : '1'}${n.hostname}\u0000${id}`
    }
    const sorted = [...this.#columns.entries()].sort(([a], [b]) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
    this.#nodesEl.replaceChildren(...sorted.map(([, c]) => c.root))
  }

  #drawColumn(id: string): void {
    const node = this.#model.nodes.get(id)
    if (node === undefined && (id !== UNASSIGNED || (this.#model.tasksByNode.get(UNASSIGNED)?.size ?? 0) === 0)) {
      // A node column waiting for its node, or the unassigned column once empty.
      const gone = this.#columns.get(id)
      if (gone !== undefined && id === UNASSIGNED) {
        this.#observer.unobserve(gone.root)
        gone.root.remove()
        this.#columns.delete(id)
      }
      return
    }
    let c = this.#columns.get(id)
    if (c === undefined) {
      c = newColumn(id)
      this.#columns.set(id, c)
      this.#observer.observe(c.root)
      c.root.classList.toggle('hidden', !this.#matches(id))
    }
    this.#drawHeader(id, c)
    if (c.visible) this.#drawCards(id, c)
    else {
      c.stale = true
      reserve(c.cards, Math.min(MAX_CARDS, this.#model.tasksByNode.get(id)?.size ?? 0))
    }
  }

  #drawHeader(id: string, c: Column): void {
    const n = this.#model.nodes.get(id)
    const taskIds = this.#model.tasksByNode.get(id) ?? new Set<string>()
    if (n === undefined) {
      c.name.textContent = 'unassigned'
      c.line.textContent = `${taskIds.size} tasks waiting for a node`
      return
    }
    c.root.className = `node state-${n.state} availability-${n.availability}${this.#matches(id) ? '' : ' hidden'}`
    c.root.dataset.role = n.role
    const leader = this.#model.isLeader(id)
    c.root.dataset.leader = String(leader)
    c.root.dataset.availability = n.availability
    c.root.dataset.state = n.state
    c.name.textContent = n.hostname
    c.mark.textContent = leader ? '★ leader' : ''
    c.line.textContent = `${n.role}${n.reachability === '' ? '' : ` (${n.reachability})`} · ${n.availability} · ${n.state}`
    let cpu = 0
    let mem = 0
    for (const tid of taskIds) {
      const t = this.#model.tasks.get(tid)
      if (t !== undefined && holdsResources(t)) {
        cpu += t.nanoCpus
        mem += t.memoryBytes
      }
    }
    c.resources.textContent = `${taskIds.size} tasks · used ${formatResources(cpu, mem)} of ${formatResources(n.nanoCpus, n.memoryBytes)}`
    c.labels.replaceChildren(...chips(n.labels))
    const act = this.#actions
    c.button.hidden = act === undefined
    const next = n.availability === 'drain' ? 'active' : 'drain'
    c.button.textContent = next === 'drain' ? 'drain' : 'activate'
    c.button.onclick = act === undefined ? null : () => act.setAvailability(id, next)
  }

  #drawCards(id: string, c: Column): void {
    c.stale = false
    const m = this.#model
    const tasks: TaskView[] = []
    for (const tid of m.tasksByNode.get(id) ?? []) {
      const t = m.tasks.get(tid)
      if (t !== undefined) tasks.push(t)
    }
    tasks.sort((a, b) => (a.serviceName < b.serviceName ? -1 : a.serviceName > b.serviceName ? 1 : a.slot - b.slot || (a.id < b.id ? -1 : 1)))
    const shown = tasks.slice(0, MAX_CARDS)
    const keep = new Set(shown.map((t) => t.id))
    for (const card of [...c.cards.children] as HTMLDivElement[]) {
      const tid = card.dataset.taskId ?? ''
      if (!keep.has(tid)) {
        card.remove()
        if (this.#cards.get(tid) === card) this.#cards.delete(tid)
      }
    }
    const cards = shown.map((t) => {
      let card = this.#cards.get(t.id)
      if (card === undefined) {
        card = newCard()
        this.#cards.set(t.id, card)
      }
      fillCard(card, t, m.now)
      return card
    })
    c.cards.replaceChildren(...cards)
    c.cards.style.height = ''
    c.more.textContent = tasks.length > shown.length ? `… ${tasks.length - shown.length} more` : ''
  }

  #onIntersect(entries: IntersectionObserverEntry[]): void {
    for (const e of entries) {
      const id = (e.target as HTMLElement).dataset.nodeId ?? ''
      const c = this.#columns.get(id)
      if (c === undefined) continue
      c.visible = e.isIntersecting
      if (c.visible && c.stale) this.#drawCards(id, c)
      if (!c.visible) {
        // Off screen: drop the cards (they are drawn again when the column comes back).
        for (const card of [...c.cards.children] as HTMLDivElement[]) this.#cards.delete(card.dataset.taskId ?? '')
        c.cards.replaceChildren()
        reserve(c.cards, Math.min(MAX_CARDS, this.#model.tasksByNode.get(id)?.size ?? 0))
        c.stale = true
      }
    }
  }

  #matches(id: string): boolean {
    if (this.#filter === '') return true
    const n = this.#model.nodes.get(id)
    if (n === undefined) return 'unassigned'.includes(this.#filter)
    const hay = [n.hostname, n.role, n.availability, n.state, ...Object.entries(n.labels).map(([k, v]) => `${k}=${v}`)].join(' ').toLowerCase()
    return hay.includes(this.#filter)
  }

  #drawService(id: string): void {
    const s = this.#model.services.get(id)
    if (s === undefined) return
    let row = this.#rows.get(id)
    if (row === undefined) {
      row = document.createElement('tr')
      row.dataset.serviceId = id
      this.#rows.set(id, row)
      this.#servicesBody.append(row)
    }
    fillServiceRow(row, s, this.#actions)
  }

  #orderRows(): void {
    const rows = [...this.#rows.entries()].sort(([a], [b]) => {
      const x = this.#model.services.get(a)?.name ?? ''
      const y = this.#model.services.get(b)?.name ?? ''
      return x < y ? -1 : x > y ? 1 : 0
    })
    this.#servicesBody.replaceChildren(...rows.map(([, r]) => r))
  }

  #drawRaft(): void {
    const r = this.#model.raft
    const nodes = this.#model.nodes
    const leader = r.members.find((m) => m.leader)
    const leaderName = leader === undefined ? '' : (nodes.get(leader.nodeId)?.hostname ?? leader.nodeId)
    this.#raftSummary.textContent = `leader ${r.leader === '0' ? 'none' : `${r.leader}${leaderName === '' ? '' : ` (${leaderName})`}`} · term ${r.term} · commit ${r.commitIndex} · applied ${r.appliedIndex}`
    this.#raftSummary.dataset.leader = r.leader
    this.#raftBody.replaceChildren(
      ...r.members.map((m) => {
        const tr = document.createElement('tr')
        tr.dataset.raftId = m.raftId
        tr.append(el('td', '', m.raftId), el('td', '', nodes.get(m.nodeId)?.hostname ?? m.nodeId), el('td', '', m.addr), el('td', 'reached', m.up ? 'yes' : 'no'), el('td', '', m.leader ? '★' : ''))
        return tr
      }),
    )
  }
}

function newColumn(id: string): Column {
  const root = el('div', 'node')
  root.dataset.nodeId = id
  const h = el('h3')
  const name = el('span', 'name')
  const mark = el('span', 'leader-mark')
  h.append(name, mark)
  const line = el('div', 'meta line')
  const resources = el('div', 'meta resources')
  const labels = el('div', 'labels')
  const button = el('button', 'availability-action')
  button.type = 'button'
  button.hidden = true
  const cards = el('div', 'cards')
  const more = el('div', 'more')
  root.append(h, line, resources, labels, button, cards, more)
  return { root, name, mark, line, resources, labels, button, cards, more, visible: false, stale: true }
}

function newCard(): HTMLDivElement {
  const card = el('div', 'task')
  card.append(el('div', 'title'), el('div', 'sub state'), el('div', 'sub image'), el('div', 'sub age'))
  return card
}

function fillCard(card: HTMLDivElement, t: TaskView, now: number): void {
  card.className = `task state-${t.state}`
  card.dataset.taskId = t.id
  card.dataset.state = t.state
  card.dataset.serviceId = t.serviceId
  const [title, state, image, ageEl] = card.children as unknown as [HTMLElement, HTMLElement, HTMLElement, HTMLElement]
  title.textContent = t.slot > 0 ? `${t.serviceName}.${t.slot}` : t.serviceName
  state.textContent = t.desiredState === t.state ? t.state : `${t.state} → ${t.desiredState}`
  state.title = t.message
  image.textContent = t.image
  ageEl.textContent = `age ${age(now - t.createdAt)}`
}

function fillServiceRow(row: HTMLTableRowElement, s: ServiceView, actions: ActionHandlers | undefined): void {
  const update = el('td', 'update')
  if (s.update !== undefined) {
    const bar = el('span', 'progress')
    const fill = el('span')
    fill.style.width = `${s.update.total === 0 ? 0 : Math.round((100 * s.update.upToDate) / s.update.total)}%`
    bar.append(fill)
    update.append(el('span', 'update-state', `${s.update.state} `), bar, el('span', '', ` ${s.update.upToDate}/${s.update.total}`))
    if (s.update.message !== '') update.append(el('div', 'sub', s.update.message))
  }
  const labels = el('td', 'labels')
  labels.append(...chips(s.labels))
  const act = el('td', 'actions-only')
  if (actions !== undefined) {
    if (s.mode === 'replicated') {
      const input = el('input', 'replicas')
      input.type = 'number'
      input.min = '0'
      input.value = String(s.desired)
      const scale = el('button', 'scale', 'scale')
      scale.type = 'button'
      scale.onclick = () => actions.scale(s.id, Number(input.value))
      act.append(input, scale)
    }
    const rollback = el('button', 'rollback', 'rollback')
    rollback.type = 'button'
    rollback.onclick = () => actions.rollback(s.id)
    act.append(rollback)
  }
  row.dataset.running = String(s.running)
  row.dataset.desired = String(s.desired)
  row.replaceChildren(el('td', 'name', s.name), el('td', 'mode', s.mode), el('td', 'image', s.image), el('td', 'count', `${s.running}/${s.desired}`), update, labels, act)
}

