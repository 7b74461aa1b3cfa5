export const id = 930;
export const ids = [930];
export const modules = {

/***/ 3930:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  parseConvention: () => (/* binding */ parseConvention)
});

// UNUSED EXPORTS: TEMPLATE_VARIABLES

// EXTERNAL MODULE: ./node_modules/ajv/dist/ajv.js
var ajv = __webpack_require__(2463);
// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(8815);
;// CONCATENATED MODULE: ./convention.schema.json
const convention_schema_namespaceObject = /*#__PURE__*/JSON.parse('{"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://github.com/ecr-promote/ecr-promote/blob/v1/convention.schema.json","title":"ecr-promote convention","description":"Which tags ecr-promote derives for each trigger. Templates use {sha}, {sha7} or {sha:N}, {branch}, {service}, {version}, {major}, {minor}, {patch}, {prerelease}, {build}, {run_number}, {date} and, in promotions, {environment}.","type":"object","additionalProperties":false,"required":["build-tag","version-tag"],"properties":{"$schema":{"type":"string"},"name":{"type":"string","minLength":1,"description":"A name for logs and errors."},"build-tag":{"$ref":"#/definitions/template","description":"The tag CI pushes for every build, such as sha-{sha7}: the image every push, release and promotion starts from. {date}, {run_number} and {build} are the build run\'s own values: a later run finds the build by the tag\'s other parts, which must hold {sha} or {sha7}."},"version-tag":{"type":"string","pattern":"^[A-Za-z0-9._-]*\\\\{version\\\\}[A-Za-z0-9._-]*$","description":"How a version appears as a tag, such as v{version}: {version} once, no other variable. Used to find released versions and rollback targets."},"rollback":{"type":"string","pattern":"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$","description":"The deploy pointer tag a rollback re-points, such as production. Without it, the convention has no rollback."},"withdrawn-tag":{"type":"string","pattern":"^[A-Za-z0-9._-]*\\\\{version\\\\}[A-Za-z0-9._-]*$","description":"The mark a rollback puts on the image it rolls back from, such as withdrawn-{version}: {version} once, no other variable, and never a version tag. A release re-run, a forward or highest pointer and a rollback to previous never move to a withdrawn version. Default withdrawn-{version}."},"push":{"$ref":"#/definitions/rules","description":"Tags for a push to the default branch. A push to any other branch only checks that the build image exists."},"release":{"$ref":"#/definitions/rules","description":"Tags for a stable release."},"prerelease":{"$ref":"#/definitions/rules","description":"Tags for a prerelease (a SemVer prerelease, or GitHub\'s prerelease flag)."},"promote":{"type":"object","description":"Tags for a promotion, by environment name.","propertyNames":{"pattern":"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},"additionalProperties":{"$ref":"#/definitions/rules"}},"cleanup":{"type":"object","additionalProperties":false,"description":"What the repository\'s lifecycle policy keeps and expires (the lifecycle input), and how many minor versions prune keeps. The convention\'s pointers (tags without a variable) are always kept.","properties":{"protect":{"type":"array","items":{"type":"string","pattern":"^[A-Za-z0-9._*-]{1,128}$"},"description":"Tags or * patterns whose images are kept forever, such as production or release-*."},"protect-releases":{"type":"boolean","description":"Keep every image that carries a version tag forever. Default true."},"keep-builds":{"type":"integer","minimum":1,"description":"How many of the newest build-tagged images to keep; older ones expire unless protected."},"expire-after-days":{"type":"integer","minimum":1,"description":"Days after its push that any other tagged image expires; also the age an image must have before prune deletes it."},"expire-untagged-after-days":{"type":"integer","minimum":1,"description":"Days after its push that an untagged image expires."},"keep-minor-versions":{"type":"integer","minimum":1,"description":"How many minor versions prune keeps (the highest patch of each)."}}},"gates":{"type":"object","additionalProperties":false,"description":"Which pointers the scan and signature gates guard (fail-on-severity, require-signature), and where a pointer\'s image must have been tested (require-tested).","properties":{"guard":{"type":"array","items":{"type":"string","pattern":"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},"description":"Pointer tags whose moves the scan and signature gates check, such as production."},"tested":{"type":"object","description":"By pointer: a tag, or a template with * (such as {version}-rc.*), that the image must carry before the pointer may move to it, such as production: staging.","propertyNames":{"pattern":"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},"additionalProperties":{"type":"string","minLength":1,"pattern":"^(?:[A-Za-z0-9._*-]|\\\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\\\})+$"}}}},"deployments":{"type":"object","description":"By pointer: the GitHub environment whose deployment records (the deployments input) a move of that pointer creates, such as production: production. Rollback to a date reads them back.","propertyNames":{"pattern":"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},"additionalProperties":{"type":"string","minLength":1,"maxLength":255,"pattern":"^[^\\\\u0000-\\\\u001f]+$"}}},"definitions":{"template":{"type":"string","minLength":1,"pattern":"^(?:[A-Za-z0-9._-]|\\\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\\\})+$"},"rules":{"type":"array","description":"One tag a rule, each rendering its own tag. ECR allows 1,000 tags per image, one of them the build tag: at most 999 rules.","maxItems":999,"items":{"oneOf":[{"$ref":"#/definitions/template"},{"type":"object","additionalProperties":false,"required":["tag"],"properties":{"tag":{"$ref":"#/definitions/template"},"kind":{"enum":["plain","version","forward","highest"],"description":"plain: points at the run\'s image. version: created once, never moved. forward: a deploy pointer that never moves to a lower version. highest: moves only when the version is the highest stable one in its line (all versions; {major}; {major}.{minor})."},"optional":{"type":"boolean","description":"Write this tag only when the run has every value its template needs (say {version} on a promotion); otherwise that is an error."}}}]}}}}');
// EXTERNAL MODULE: ./src/core/derive.ts
var derive = __webpack_require__(3868);
// EXTERNAL MODULE: ./src/core/convention.ts
var core_convention = __webpack_require__(6296);
// EXTERNAL MODULE: ./src/core/model.ts
var model = __webpack_require__(4146);
// EXTERNAL MODULE: ./src/core/tags.ts
var tags = __webpack_require__(2766);
// EXTERNAL MODULE: ./src/core/problems.ts
var core_problems = __webpack_require__(536);
// EXTERNAL MODULE: ./src/core/version.ts
var version = __webpack_require__(3323);
;// CONCATENATED MODULE: ./src/core/convention-file.ts
/** A convention file: parsed (YAML or JSON), checked against the schema and the rules of tags. */









/** Variables every trigger has; `{build}` and `{run_number}` are the workflow run number. */
const BUILD_VARIABLES = ['sha', 'sha7', 'branch', 'service', 'build', 'run_number', 'date'];
const VERSION_VARIABLES = ['version', 'major', 'minor', 'patch', 'prerelease'];
const TEMPLATE_VARIABLES = [...BUILD_VARIABLES, ...VERSION_VARIABLES, 'environment'];
const VARIABLES_BY_SECTION = {
    'build-tag': BUILD_VARIABLES,
    push: BUILD_VARIABLES,
    release: [...BUILD_VARIABLES, ...VERSION_VARIABLES],
    prerelease: [...BUILD_VARIABLES, ...VERSION_VARIABLES],
    promote: TEMPLATE_VARIABLES
};
const validate = new ajv.Ajv({
    allErrors: true
}).compile(convention_schema_namespaceObject);
/** Parses and checks a convention document; every problem is named with its field. */
function parseConvention(text, origin) {
    let document;
    try {
        document = (0,dist/* parse */.qg)(text);
    }
    catch (error) {
        const [where] = (0,model/* messageOf */.bD)(error).split(':\n');
        throw new Error(`convention ${origin} is not valid YAML or JSON: ${where}`, { cause: error });
    }
    if (!validate(document))
        throw conventionError(origin, schemaProblems(validate.errors ?? []));
    const problems = [
        ...templateProblems(document),
        ...withdrawnTagProblems(document),
        ...buildTagProblems(document)
    ];
    if (problems.length > 0)
        throw conventionError(origin, problems);
    const convention = (0,core_convention/* toConvention */.L)(document, origin);
    const conflicts = ruleProblems(convention);
    if (conflicts.length > 0)
        throw conventionError(origin, conflicts);
    return convention;
}
/** A commit hash's length, which a `{sha:N}` cannot exceed. */
const SHA_LENGTH = 40;
/**
 * Each template may use only the variables its trigger has, must not start with `-` or `.`, and may
 * take no more of the sha than there is.
 */
function templateProblems(document) {
    const templates = [
        ['build-tag', 'build-tag', document['build-tag']],
        ['version-tag', 'release', document['version-tag']]
    ];
    const addRules = (field, section, list = []) => list.forEach((rule, index) => templates.push([
        typeof rule === 'string' ? `${field}[${index}]` : `${field}[${index}].tag`,
        section,
        typeof rule === 'string' ? rule : rule.tag
    ]));
    for (const section of ['push', 'release', 'prerelease'])
        addRules(section, section, document[section]);
    for (const [environment, list] of Object.entries(document.promote ?? {})) {
        addRules(`promote.${environment}`, 'promote', list);
    }
    for (const [pointer, pattern] of Object.entries(document.gates?.tested ?? {}))
        templates.push([`gates.tested.${pointer}`, 'promote', pattern]);
    return templates.flatMap(([field, section, template]) => {
        const available = VARIABLES_BY_SECTION[section];
        const problems = (0,tags/* templateVariables */.Qp)(template).flatMap((name) => !TEMPLATE_VARIABLES.includes(name)
            ? [
                `${field}: {${name}} is not a template variable; use ${TEMPLATE_VARIABLES.map((v) => `{${v}}`).join(', ')}`
            ]
            : available.includes(name)
                ? []
                : [
                    `${field}: {${name}} has no value there; available: ${available.map((v) => `{${v}}`).join(', ')}`
                ]);
        if (/^[-.]/.test(template))
            problems.push(`${field}: '${template}' starts with '${template[0]}', which a tag cannot`);
        for (const [placeholder, length] of template.matchAll(/\{sha:(\d+)\}/g))
            if (Number(length) > SHA_LENGTH)
                problems.push(`${field}: ${placeholder} takes more characters than a commit hash has (${SHA_LENGTH})`);
        return problems;
    });
}
/**
 * A build tag with run variables is found again by its other parts, which must name one commit: a
 * release cannot know the date or run number of the build it starts from.
 */
function buildTagProblems(document) {
    const template = document['build-tag'];
    const runOnly = (0,tags/* runVariables */.RV)(template).map((name) => `{${name}}`);
    const variables = (0,tags/* templateVariables */.Qp)(template);
    if (runOnly.length === 0 || variables.includes('sha') || variables.includes('sha7'))
        return [];
    return [
        `build-tag: '${template}' uses ${runOnly.join(', ')}, which only the build's own run knows: a later run finds the build by the tag's other parts, and without {sha} or {sha7} they name no commit; add one, such as '${template}-{sha7}'`
    ];
}
/** Build values for checking rules: each distinct, so two templates render alike only where a run can make them. */
const SAMPLE = {
    sha: '0123456789abcdef0123456789abcdef01234567',
    sha7: '0123456',
    branch: 'sample-branch',
    service: 'sample-service',
    build: '4242',
    run_number: '4242',
    date: '20260102'
};
/** A stable and a prerelease version, which rules render differently. */
const [STABLE, PRERELEASE] = ['1.2.3', '1.2.3-rc.1'].map((text) => (0,version/* requireVersion */.eU)(text, 'sample'));
/**
 * What would corrupt a run of one event, found by rendering its rules with sample values: two rules
 * for one tag (a plain one would move a pointer its pointer rule holds), a rule for the build tag or
 * for a withdrawn mark, a rule that would move a version tag. One problem a rule.
 */
function ruleProblems(convention) {
    // A release of a prerelease version is a prerelease; so is a stable one with GitHub's prerelease flag.
    const events = [
        ['push', convention.push, [undefined]],
        ['release', convention.release, [STABLE]],
        ['prerelease', convention.prerelease, [STABLE, PRERELEASE]],
        ...Object.entries(convention.promote).map(([environment, rules]) => [
            `promote.${environment}`,
            rules,
            [STABLE, PRERELEASE],
            environment
        ])
    ];
    const problems = new Map();
    for (const [event, rules, versions, environment] of events)
        for (const version of versions) {
            const first = new Map();
            rules.forEach((rule, index) => {
                const tag = (0,tags/* renderTemplate */.Xm)(rule.tag, { ...SAMPLE, environment, ...(0,derive/* versionValues */.v)(version) });
                if (tag === undefined)
                    return;
                const earlier = first.get(tag);
                if (earlier === undefined)
                    first.set(tag, index);
                const field = `${event}[${index}]`;
                const problem = tagProblem(convention, rule, tag) ??
                    (earlier === undefined
                        ? undefined
                        : sameTagProblem(event, [earlier, rules[earlier]], [index, rule], tag, version));
                if (problem && !problems.has(field))
                    problems.set(field, `${field}: ${problem}`);
            });
        }
    return [...problems.values()];
}
/** Why a rule must not render this tag, if it must not: it reads as a tag the run treats apart. */
function tagProblem(convention, rule, tag) {
    if ((0,model/* matchesWildcard */._W)((0,tags/* renderTemplate */.Xm)(convention.buildTag, (0,tags/* anyRun */.M)(SAMPLE)), tag))
        return `renders '${tag}', which reads as the build tag '${convention.buildTag}': every later run of that commit would start from where this rule moved it; use another tag`;
    const withdrawn = (0,version/* parseVersion */.ot)((0,tags/* versionTagMatcher */.ho)(convention.withdrawnTag)(tag) ?? '');
    if (withdrawn)
        return `renders '${tag}', the withdrawn mark of ${withdrawn.text} (withdrawn-tag '${convention.withdrawnTag}'): every later run would take ${withdrawn.text} as withdrawn by a rollback; use another tag`;
    const released = (0,version/* parseVersion */.ot)((0,tags/* versionTagMatcher */.ho)(convention.versionTag)(tag) ?? '');
    if (released && rule.kind !== 'version')
        return `renders '${tag}', the version tag of ${released.text} (version-tag '${convention.versionTag}'), but is kind ${rule.kind}: a version tag never moves, so make it kind: version`;
    return undefined;
}
/** Two rules of one event that render one tag: the later one is the problem. */
function sameTagProblem(event, [earlier, other], [index, rule], tag, version) {
    const byVersion = [other, rule].some(({ tag: template }) => (0,tags/* templateVariables */.Qp)(template).some((name) => VERSION_VARIABLES.includes(name)));
    const when = version && byVersion && other.tag !== rule.tag ? ` for version ${version.text}` : '';
    const same = `renders '${tag}' as ${event}[${earlier}] does${when}`;
    const pointer = [other, rule].find(({ kind }) => kind === 'forward' || kind === 'highest');
    const plain = [other, rule].find(({ kind }) => kind === 'plain');
    if (!pointer || !plain)
        return `${same}: an event writes each tag once; keep one rule`;
    const pointerField = `${event}[${pointer === other ? earlier : index}]`;
    return `${same}, which ${pointerField} makes a ${pointer.kind} pointer: the plain rule would move it backwards, which only a rollback may; keep one rule`;
}
/**
 * The withdrawn mark must never read as a version tag or a build tag: a mark taken for a release
 * would make a withdrawn version look released twice, or a build look withdrawn.
 */
function withdrawnTagProblems(document) {
    const template = document['withdrawn-tag'] ?? core_convention/* DEFAULT_WITHDRAWN_TAG */.S;
    const sample = template.replace('{version}', '1.2.3');
    const problems = [];
    const read = (0,tags/* versionTagMatcher */.ho)(document['version-tag'])(sample);
    if (read !== undefined && (0,version/* parseVersion */.ot)(read))
        problems.push(`withdrawn-tag: '${template}' renders tags that read as the version tag '${document['version-tag']}': add a prefix such as withdrawn-`);
    if ((0,model/* matchesWildcard */._W)((0,tags/* templatePattern */.N7)(document['build-tag']), sample))
        problems.push(`withdrawn-tag: '${template}' renders tags that match the build tag '${document['build-tag']}'`);
    return problems;
}
const FRIENDLY_PATTERNS = {
    [convention_schema_namespaceObject.definitions.template.pattern]: 'must be a tag template: letters, digits, . _ - and {variables} such as {version} or {sha:7}',
    [convention_schema_namespaceObject.properties["version-tag"].pattern]: 'must contain {version} exactly once, and no other variable',
    [convention_schema_namespaceObject.properties.rollback.pattern]: 'must be a valid tag (letters, digits, . _ -; at most 128)',
    [convention_schema_namespaceObject.properties.gates.properties.tested.additionalProperties.pattern]: 'must be a tag or tag template, with * for any run of characters, such as staging or {version}-rc.*'
};
/** Turns schema errors into `field: what is wrong`, keeping the most specific error per field. */
function schemaProblems(errors) {
    const informative = errors.filter(({ keyword }) => keyword !== 'oneOf');
    // A rule may be a string or an object, so a wrong rule fails both ways; keep the failure that explains it.
    const explained = (error) => informative.some((other) => other.instancePath.startsWith(`${error.instancePath}/`) ||
        (other.instancePath === error.instancePath && other.keyword !== 'type'));
    const specific = informative.filter((error) => error.keyword !== 'type' || !explained(error));
    return [
        ...new Set(specific.map((error) => {
            const field = fieldName(error.instancePath, error.params);
            switch (error.keyword) {
                case 'required':
                    return `${field}: is required`;
                case 'additionalProperties':
                    return `${field}: is not a known field`;
                case 'enum':
                    return `${field}: must be one of ${error.params.allowedValues.join(', ')}`;
                case 'pattern':
                    return `${field}: ${FRIENDLY_PATTERNS[error.params.pattern] ?? error.message}`;
                case 'type':
                    return `${field}: must be ${error.params.type === 'array' ? 'a list' : `a ${error.params.type}`}`;
                case 'maxItems':
                    return `${field}: lists more than ${error.params.limit} rules: ECR allows 1,000 tags per image, and the build tag is one of them`;
                default:
                    return `${field}: ${error.message}`;
            }
        }))
    ];
}
const conventionError = (origin, problems) => (0,core_problems/* problemsError */.$j)(problems.map((problem) => `convention ${origin}: ${problem}`));
function fieldName(instancePath, params) {
    const parts = instancePath
        .split('/')
        .slice(1)
        .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'));
    const named = params.missingProperty ?? params.additionalProperty ?? params.propertyName;
    if (typeof named === 'string')
        parts.push(named);
    return (parts.reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path ? `${path}.${part}` : part), '') || '(document)');
}


/***/ })

};
