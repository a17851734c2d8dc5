// Drive the official Commerce Layer clients (@commercelayer/js-auth and @commercelayer/sdk),
// unchanged, against our Commerce Layer sandbox, and print what they saw as one JSON document.
//
// Both clients force https and build their hosts from the domain (facts §8); the only change we
// make is the redirection the facts describe: a fetch that rewrites the https origin to the
// sandbox's loopback URL. Everything else (headers, bodies, query strings, parsing) is theirs.
//
// env: CL_URL, CL_ORG, CL_CLIENT_ID, CL_CLIENT_SECRET, CL_SCOPE
import { authenticate, jwtDecode } from '@commercelayer/js-auth'
import { CommerceLayer } from '@commercelayer/sdk/bundle'

const { CL_URL, CL_ORG, CL_CLIENT_ID, CL_CLIENT_SECRET, CL_SCOPE } = process.env
const realFetch = globalThis.fetch
const toSandbox = (input) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
  return url.replace(/^https:\/\/auth\.commercelayer\.io/, CL_URL)
    .replace(`https://${CL_ORG}.commercelayer.io`, CL_URL)
}
globalThis.fetch = (input, init) => realFetch(toSandbox(input), init)

const report = {}
const step = async (name, fn) => {
  try {
    report[name] = { ok: await fn() }
  } catch (error) {
    report[name] = { error: { message: String(error?.message ?? error), status: error?.status,
      code: error?.code, errors: error?.errors } }
  }
}

let token
await step('authenticate', async () => {
  const auth = await authenticate('client_credentials',
    { clientId: CL_CLIENT_ID, clientSecret: CL_CLIENT_SECRET, scope: CL_SCOPE })
  if (auth.errors) throw Object.assign(new Error('auth errors'), { errors: auth.errors })
  token = auth.accessToken
  const { payload } = jwtDecode(auth.accessToken)
  return { keys: Object.keys(auth).sort(), tokenType: auth.tokenType, scope: auth.scope,
    expiresIn: auth.expiresIn, organization: payload.organization.slug,
    kind: payload.application.kind, test: payload.test }
})
await step('bad_credentials', async () => {
  const auth = await authenticate('client_credentials',
    { clientId: CL_CLIENT_ID, clientSecret: 'wrong' })
  return { errors: auth.errors }
})

// No `organization` option: the SDK must find it in the token (facts §1.6).
const cl = CommerceLayer({ accessToken: token })
let categoryId
let created
await step('organization_from_token', async () => {
  const categories = await cl.shipping_categories.list({ filters: { code_eq: 'merchandise' } })
  categoryId = categories.first().id
  return { count: categories.length }
})
await step('create', async () => {
  created = []
  for (let n = 1; n <= 12; n++) {
    created.push(await cl.skus.create({ code: `SDK-${String(n).padStart(3, '0')}`, name: `SDK sku ${n}`,
      shipping_category: cl.shipping_categories.relationship(categoryId) }))
  }
  return { codes: created.map((s) => s.code), type: created[0].type }
})
await step('list_page_filter', async () => {
  const page = await cl.skus.list({ filters: { code_start: 'SDK-' }, pageSize: 5, pageNumber: 2,
    sort: { code: 'asc' } })
  return { codes: page.map((s) => s.code), recordCount: page.meta.recordCount,
    pageCount: page.meta.pageCount, currentPage: page.meta.currentPage }
})
await step('include', async () => {
  const sku = await cl.skus.retrieve(created[0].id, { include: ['shipping_category'] })
  return { shippingCategoryCode: sku.shipping_category?.code }
})
await step('update', async () => {
  const sku = await cl.skus.update({ id: created[0].id, name: 'Renamed by the SDK' })
  return { name: sku.name }
})
await step('delete', async () => {
  await cl.skus.delete(created[1].id)
  const page = await cl.skus.list({ filters: { code_eq: created[1].code } })
  return { remaining: page.length }
})
await step('duplicate_code', async () => {
  await cl.skus.create({ code: created[0].code, name: 'dup',
    shipping_category: cl.shipping_categories.relationship(categoryId) })
  return 'created a duplicate'
})
await step('missing_relationship', async () => {
  await cl.skus.create({ code: 'NO-CATEGORY', name: 'x' })
  return 'created without a shipping category'
})

process.stdout.write(JSON.stringify(report, null, 2))
