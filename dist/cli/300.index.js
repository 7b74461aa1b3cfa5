export const id = 300;
export const ids = [300];
export const modules = {

/***/ 2300:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  parseConvention: () => (/* binding */ parseConvention)
});

// UNUSED EXPORTS: TEMPLATE_VARIABLES

// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(8815);
;// CONCATENATED MODULE: ./convention.schema.json
const convention_schema_namespaceObject = /*#__PURE__*/JSON.parse('{"qo":{"sC":{"T1":"^[A-Za-z0-9._-]*\\\\{version\\\\}[A-Za-z0-9._-]*$"},"dU":{"T1":"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},"VF":{"qo":{"G":{"BC":{"T1":"^(?:[A-Za-z0-9._*-]|\\\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\\\})+$"}}}}},"BG":{"v":{"T1":"^(?:[A-Za-z0-9._-]|\\\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\\\})+$"}}}');
;// CONCATENATED MODULE: ./src/core/convention.validate.js
// Generated from convention.schema.json by npm run schema: do not edit.
// @ts-nocheck
const validate = validate10;/* harmony default export */ const convention_validate = ((/* unused pure expression or super */ null && (validate10)));const schema11 = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://github.com/ecr-promote/ecr-promote/blob/v1/convention.schema.json","title":"ecr-promote convention","description":"Which tags ecr-promote derives for each trigger. Templates use {sha}, {sha7} or {sha:N}, {branch}, {service}, {version}, {major}, {minor}, {patch}, {prerelease}, {build}, {run_number}, {date} and, in promotions, {environment}.","type":"object","additionalProperties":false,"required":["build-tag","version-tag"],"properties":{"$schema":{"type":"string"},"name":{"type":"string","minLength":1,"description":"A name for logs and errors."},"build-tag":{"$ref":"#/definitions/template","description":"The tag CI pushes for every build, such as sha-{sha7}: the image every push, release and promotion starts from. {date}, {run_number} and {build} are the build run's own values: a later run finds the build by the tag's other parts, which must hold {sha} or {sha7}."},"version-tag":{"type":"string","pattern":"^[A-Za-z0-9._-]*\\{version\\}[A-Za-z0-9._-]*$","description":"How a version appears as a tag, such as v{version}: {version} once, no other variable. Used to find released versions and rollback targets."},"rollback":{"type":"string","pattern":"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$","description":"The deploy pointer tag a rollback re-points, such as production. Without it, the convention has no rollback."},"withdrawn-tag":{"type":"string","pattern":"^[A-Za-z0-9._-]*\\{version\\}[A-Za-z0-9._-]*$","description":"The mark a rollback puts on the image it rolls back from, such as withdrawn-{version}: {version} once, no other variable, and never a version tag. A release re-run, a forward or highest pointer and a rollback to previous never move to a withdrawn version. Default withdrawn-{version}."},"push":{"$ref":"#/definitions/rules","description":"Tags for a push to the default branch. A push to any other branch only checks that the build image exists."},"release":{"$ref":"#/definitions/rules","description":"Tags for a stable release."},"prerelease":{"$ref":"#/definitions/rules","description":"Tags for a prerelease (a SemVer prerelease, or GitHub's prerelease flag)."},"promote":{"type":"object","description":"Tags for a promotion, by environment name.","propertyNames":{"pattern":"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},"additionalProperties":{"$ref":"#/definitions/rules"}},"cleanup":{"type":"object","additionalProperties":false,"description":"What the repository's lifecycle policy keeps and expires (the lifecycle input), and how many minor versions prune keeps. The convention's pointers (tags without a variable) are always kept.","properties":{"protect":{"type":"array","items":{"type":"string","pattern":"^[A-Za-z0-9._*-]{1,128}$"},"description":"Tags or * patterns whose images are kept forever, such as production or release-*."},"protect-releases":{"type":"boolean","description":"Keep every image that carries a version tag forever. Default true."},"keep-builds":{"type":"integer","minimum":1,"description":"How many of the newest build-tagged images to keep; older ones expire unless protected."},"expire-after-days":{"type":"integer","minimum":1,"description":"Days after its push that any other tagged image expires; also the age an image must have before prune deletes it."},"expire-untagged-after-days":{"type":"integer","minimum":1,"description":"Days after its push that an untagged image expires."},"keep-minor-versions":{"type":"integer","minimum":1,"description":"How many minor versions prune keeps (the highest patch of each)."}}},"gates":{"type":"object","additionalProperties":false,"description":"Which pointers the scan and signature gates guard (fail-on-severity, require-signature), and where a pointer's image must have been tested (require-tested).","properties":{"guard":{"type":"array","items":{"type":"string","pattern":"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},"description":"Pointer tags whose moves the scan and signature gates check, such as production."},"tested":{"type":"object","description":"By pointer: a tag, or a template with * (such as {version}-rc.*), that the image must carry before the pointer may move to it, such as production: staging.","propertyNames":{"pattern":"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},"additionalProperties":{"type":"string","minLength":1,"pattern":"^(?:[A-Za-z0-9._*-]|\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\})+$"}}}},"deployments":{"type":"object","description":"By pointer: the GitHub environment whose deployment records (the deployments input) a move of that pointer creates, such as production: production. Rollback to a date reads them back.","propertyNames":{"pattern":"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},"additionalProperties":{"type":"string","minLength":1,"maxLength":255,"pattern":"^[^\\u0000-\\u001f]+$"}}},"definitions":{"template":{"type":"string","minLength":1,"pattern":"^(?:[A-Za-z0-9._-]|\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\})+$"},"rules":{"type":"array","description":"One tag a rule, each rendering its own tag. ECR allows 1,000 tags per image, one of them the build tag: at most 999 rules.","maxItems":999,"items":{"oneOf":[{"$ref":"#/definitions/template"},{"type":"object","additionalProperties":false,"required":["tag"],"properties":{"tag":{"$ref":"#/definitions/template"},"kind":{"enum":["plain","version","forward","highest"],"description":"plain: points at the run's image. version: created once, never moved. forward: a deploy pointer that never moves to a lower version. highest: moves only when the version is the highest stable one in its line (all versions; {major}; {major}.{minor})."},"optional":{"type":"boolean","description":"Write this tag only when the run has every value its template needs (say {version} on a promotion); otherwise that is an error."}}}]}}}};const schema12 = {"type":"string","minLength":1,"pattern":"^(?:[A-Za-z0-9._-]|\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\})+$"};const func2 = Object.prototype.hasOwnProperty;const func3 = (text) => [...text].length;const pattern0 = new RegExp("^(?:[A-Za-z0-9._-]|\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\})+$", "u");const pattern1 = new RegExp("^[A-Za-z0-9._-]*\\{version\\}[A-Za-z0-9._-]*$", "u");const pattern2 = new RegExp("^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$", "u");const pattern7 = new RegExp("^[A-Za-z0-9._*-]{1,128}$", "u");const pattern10 = new RegExp("^(?:[A-Za-z0-9._*-]|\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\})+$", "u");const pattern12 = new RegExp("^[^\\u0000-\\u001f]+$", "u");const schema13 = {"type":"array","description":"One tag a rule, each rendering its own tag. ECR allows 1,000 tags per image, one of them the build tag: at most 999 rules.","maxItems":999,"items":{"oneOf":[{"$ref":"#/definitions/template"},{"type":"object","additionalProperties":false,"required":["tag"],"properties":{"tag":{"$ref":"#/definitions/template"},"kind":{"enum":["plain","version","forward","highest"],"description":"plain: points at the run's image. version: created once, never moved. forward: a deploy pointer that never moves to a lower version. highest: moves only when the version is the highest stable one in its line (all versions; {major}; {major}.{minor})."},"optional":{"type":"boolean","description":"Write this tag only when the run has every value its template needs (say {version} on a promotion); otherwise that is an error."}}}]}};function validate11(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){let vErrors = null;let errors = 0;if(Array.isArray(data)){if(data.length > 999){const err0 = {instancePath,schemaPath:"#/maxItems",keyword:"maxItems",params:{limit: 999},message:"must NOT have more than 999 items"};if(vErrors === null){vErrors = [err0];}else {vErrors.push(err0);}errors++;}const len0 = data.length;for(let i0=0; i0<len0; i0++){let data0 = data[i0];const _errs2 = errors;let valid2 = false;let passing0 = null;const _errs3 = errors;if(typeof data0 === "string"){if(func3(data0) < 1){const err1 = {instancePath:instancePath+"/" + i0,schemaPath:"#/definitions/template/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};if(vErrors === null){vErrors = [err1];}else {vErrors.push(err1);}errors++;}if(!pattern0.test(data0)){const err2 = {instancePath:instancePath+"/" + i0,schemaPath:"#/definitions/template/pattern",keyword:"pattern",params:{pattern: "^(?:[A-Za-z0-9._-]|\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\})+$"},message:"must match pattern \""+"^(?:[A-Za-z0-9._-]|\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\})+$"+"\""};if(vErrors === null){vErrors = [err2];}else {vErrors.push(err2);}errors++;}}else {const err3 = {instancePath:instancePath+"/" + i0,schemaPath:"#/definitions/template/type",keyword:"type",params:{type: "string"},message:"must be string"};if(vErrors === null){vErrors = [err3];}else {vErrors.push(err3);}errors++;}var _valid0 = _errs3 === errors;if(_valid0){valid2 = true;passing0 = 0;}const _errs6 = errors;if(data0 && typeof data0 == "object" && !Array.isArray(data0)){if(data0.tag === undefined){const err4 = {instancePath:instancePath+"/" + i0,schemaPath:"#/items/oneOf/1/required",keyword:"required",params:{missingProperty: "tag"},message:"must have required property '"+"tag"+"'"};if(vErrors === null){vErrors = [err4];}else {vErrors.push(err4);}errors++;}for(const key0 in data0){if(!(((key0 === "tag") || (key0 === "kind")) || (key0 === "optional"))){const err5 = {instancePath:instancePath+"/" + i0,schemaPath:"#/items/oneOf/1/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties"};if(vErrors === null){vErrors = [err5];}else {vErrors.push(err5);}errors++;}}if(data0.tag !== undefined){let data1 = data0.tag;if(typeof data1 === "string"){if(func3(data1) < 1){const err6 = {instancePath:instancePath+"/" + i0+"/tag",schemaPath:"#/definitions/template/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};if(vErrors === null){vErrors = [err6];}else {vErrors.push(err6);}errors++;}if(!pattern0.test(data1)){const err7 = {instancePath:instancePath+"/" + i0+"/tag",schemaPath:"#/definitions/template/pattern",keyword:"pattern",params:{pattern: "^(?:[A-Za-z0-9._-]|\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\})+$"},message:"must match pattern \""+"^(?:[A-Za-z0-9._-]|\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\})+$"+"\""};if(vErrors === null){vErrors = [err7];}else {vErrors.push(err7);}errors++;}}else {const err8 = {instancePath:instancePath+"/" + i0+"/tag",schemaPath:"#/definitions/template/type",keyword:"type",params:{type: "string"},message:"must be string"};if(vErrors === null){vErrors = [err8];}else {vErrors.push(err8);}errors++;}}if(data0.kind !== undefined){let data2 = data0.kind;if(!((((data2 === "plain") || (data2 === "version")) || (data2 === "forward")) || (data2 === "highest"))){const err9 = {instancePath:instancePath+"/" + i0+"/kind",schemaPath:"#/items/oneOf/1/properties/kind/enum",keyword:"enum",params:{allowedValues: schema13.items.oneOf[1].properties.kind.enum},message:"must be equal to one of the allowed values"};if(vErrors === null){vErrors = [err9];}else {vErrors.push(err9);}errors++;}}if(data0.optional !== undefined){if(typeof data0.optional !== "boolean"){const err10 = {instancePath:instancePath+"/" + i0+"/optional",schemaPath:"#/items/oneOf/1/properties/optional/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};if(vErrors === null){vErrors = [err10];}else {vErrors.push(err10);}errors++;}}}else {const err11 = {instancePath:instancePath+"/" + i0,schemaPath:"#/items/oneOf/1/type",keyword:"type",params:{type: "object"},message:"must be object"};if(vErrors === null){vErrors = [err11];}else {vErrors.push(err11);}errors++;}var _valid0 = _errs6 === errors;if(_valid0 && valid2){valid2 = false;passing0 = [passing0, 1];}else {if(_valid0){valid2 = true;passing0 = 1;}}if(!valid2){const err12 = {instancePath:instancePath+"/" + i0,schemaPath:"#/items/oneOf",keyword:"oneOf",params:{passingSchemas: passing0},message:"must match exactly one schema in oneOf"};if(vErrors === null){vErrors = [err12];}else {vErrors.push(err12);}errors++;}else {errors = _errs2;if(vErrors !== null){if(_errs2){vErrors.length = _errs2;}else {vErrors = null;}}}}}else {const err13 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "array"},message:"must be array"};if(vErrors === null){vErrors = [err13];}else {vErrors.push(err13);}errors++;}validate11.errors = vErrors;return errors === 0;}function validate10(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){/*# sourceURL="https://github.com/ecr-promote/ecr-promote/blob/v1/convention.schema.json" */;let vErrors = null;let errors = 0;if(data && typeof data == "object" && !Array.isArray(data)){if(data["build-tag"] === undefined){const err0 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "build-tag"},message:"must have required property '"+"build-tag"+"'"};if(vErrors === null){vErrors = [err0];}else {vErrors.push(err0);}errors++;}if(data["version-tag"] === undefined){const err1 = {instancePath,schemaPath:"#/required",keyword:"required",params:{missingProperty: "version-tag"},message:"must have required property '"+"version-tag"+"'"};if(vErrors === null){vErrors = [err1];}else {vErrors.push(err1);}errors++;}for(const key0 in data){if(!(func2.call(schema11.properties, key0))){const err2 = {instancePath,schemaPath:"#/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key0},message:"must NOT have additional properties"};if(vErrors === null){vErrors = [err2];}else {vErrors.push(err2);}errors++;}}if(data.$schema !== undefined){if(typeof data.$schema !== "string"){const err3 = {instancePath:instancePath+"/$schema",schemaPath:"#/properties/%24schema/type",keyword:"type",params:{type: "string"},message:"must be string"};if(vErrors === null){vErrors = [err3];}else {vErrors.push(err3);}errors++;}}if(data.name !== undefined){let data1 = data.name;if(typeof data1 === "string"){if(func3(data1) < 1){const err4 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};if(vErrors === null){vErrors = [err4];}else {vErrors.push(err4);}errors++;}}else {const err5 = {instancePath:instancePath+"/name",schemaPath:"#/properties/name/type",keyword:"type",params:{type: "string"},message:"must be string"};if(vErrors === null){vErrors = [err5];}else {vErrors.push(err5);}errors++;}}if(data["build-tag"] !== undefined){let data2 = data["build-tag"];if(typeof data2 === "string"){if(func3(data2) < 1){const err6 = {instancePath:instancePath+"/build-tag",schemaPath:"#/definitions/template/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};if(vErrors === null){vErrors = [err6];}else {vErrors.push(err6);}errors++;}if(!pattern0.test(data2)){const err7 = {instancePath:instancePath+"/build-tag",schemaPath:"#/definitions/template/pattern",keyword:"pattern",params:{pattern: "^(?:[A-Za-z0-9._-]|\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\})+$"},message:"must match pattern \""+"^(?:[A-Za-z0-9._-]|\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\})+$"+"\""};if(vErrors === null){vErrors = [err7];}else {vErrors.push(err7);}errors++;}}else {const err8 = {instancePath:instancePath+"/build-tag",schemaPath:"#/definitions/template/type",keyword:"type",params:{type: "string"},message:"must be string"};if(vErrors === null){vErrors = [err8];}else {vErrors.push(err8);}errors++;}}if(data["version-tag"] !== undefined){let data3 = data["version-tag"];if(typeof data3 === "string"){if(!pattern1.test(data3)){const err9 = {instancePath:instancePath+"/version-tag",schemaPath:"#/properties/version-tag/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9._-]*\\{version\\}[A-Za-z0-9._-]*$"},message:"must match pattern \""+"^[A-Za-z0-9._-]*\\{version\\}[A-Za-z0-9._-]*$"+"\""};if(vErrors === null){vErrors = [err9];}else {vErrors.push(err9);}errors++;}}else {const err10 = {instancePath:instancePath+"/version-tag",schemaPath:"#/properties/version-tag/type",keyword:"type",params:{type: "string"},message:"must be string"};if(vErrors === null){vErrors = [err10];}else {vErrors.push(err10);}errors++;}}if(data.rollback !== undefined){let data4 = data.rollback;if(typeof data4 === "string"){if(!pattern2.test(data4)){const err11 = {instancePath:instancePath+"/rollback",schemaPath:"#/properties/rollback/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},message:"must match pattern \""+"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"+"\""};if(vErrors === null){vErrors = [err11];}else {vErrors.push(err11);}errors++;}}else {const err12 = {instancePath:instancePath+"/rollback",schemaPath:"#/properties/rollback/type",keyword:"type",params:{type: "string"},message:"must be string"};if(vErrors === null){vErrors = [err12];}else {vErrors.push(err12);}errors++;}}if(data["withdrawn-tag"] !== undefined){let data5 = data["withdrawn-tag"];if(typeof data5 === "string"){if(!pattern1.test(data5)){const err13 = {instancePath:instancePath+"/withdrawn-tag",schemaPath:"#/properties/withdrawn-tag/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9._-]*\\{version\\}[A-Za-z0-9._-]*$"},message:"must match pattern \""+"^[A-Za-z0-9._-]*\\{version\\}[A-Za-z0-9._-]*$"+"\""};if(vErrors === null){vErrors = [err13];}else {vErrors.push(err13);}errors++;}}else {const err14 = {instancePath:instancePath+"/withdrawn-tag",schemaPath:"#/properties/withdrawn-tag/type",keyword:"type",params:{type: "string"},message:"must be string"};if(vErrors === null){vErrors = [err14];}else {vErrors.push(err14);}errors++;}}if(data.push !== undefined){if(!(validate11(data.push, {instancePath:instancePath+"/push",parentData:data,parentDataProperty:"push",rootData}))){vErrors = vErrors === null ? validate11.errors : vErrors.concat(validate11.errors);errors = vErrors.length;}}if(data.release !== undefined){if(!(validate11(data.release, {instancePath:instancePath+"/release",parentData:data,parentDataProperty:"release",rootData}))){vErrors = vErrors === null ? validate11.errors : vErrors.concat(validate11.errors);errors = vErrors.length;}}if(data.prerelease !== undefined){if(!(validate11(data.prerelease, {instancePath:instancePath+"/prerelease",parentData:data,parentDataProperty:"prerelease",rootData}))){vErrors = vErrors === null ? validate11.errors : vErrors.concat(validate11.errors);errors = vErrors.length;}}if(data.promote !== undefined){let data9 = data.promote;if(data9 && typeof data9 == "object" && !Array.isArray(data9)){for(const key1 in data9){const _errs20 = errors;if(typeof key1 === "string"){if(!pattern2.test(key1)){const err15 = {instancePath:instancePath+"/promote",schemaPath:"#/properties/promote/propertyNames/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},message:"must match pattern \""+"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"+"\"",propertyName:key1};if(vErrors === null){vErrors = [err15];}else {vErrors.push(err15);}errors++;}}var valid2 = _errs20 === errors;if(!valid2){const err16 = {instancePath:instancePath+"/promote",schemaPath:"#/properties/promote/propertyNames",keyword:"propertyNames",params:{propertyName: key1},message:"property name must be valid"};if(vErrors === null){vErrors = [err16];}else {vErrors.push(err16);}errors++;}}for(const key2 in data9){if(!(validate11(data9[key2], {instancePath:instancePath+"/promote/" + key2.replace(/~/g, "~0").replace(/\//g, "~1"),parentData:data9,parentDataProperty:key2,rootData}))){vErrors = vErrors === null ? validate11.errors : vErrors.concat(validate11.errors);errors = vErrors.length;}}}else {const err17 = {instancePath:instancePath+"/promote",schemaPath:"#/properties/promote/type",keyword:"type",params:{type: "object"},message:"must be object"};if(vErrors === null){vErrors = [err17];}else {vErrors.push(err17);}errors++;}}if(data.cleanup !== undefined){let data11 = data.cleanup;if(data11 && typeof data11 == "object" && !Array.isArray(data11)){for(const key3 in data11){if(!((((((key3 === "protect") || (key3 === "protect-releases")) || (key3 === "keep-builds")) || (key3 === "expire-after-days")) || (key3 === "expire-untagged-after-days")) || (key3 === "keep-minor-versions"))){const err18 = {instancePath:instancePath+"/cleanup",schemaPath:"#/properties/cleanup/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key3},message:"must NOT have additional properties"};if(vErrors === null){vErrors = [err18];}else {vErrors.push(err18);}errors++;}}if(data11.protect !== undefined){let data12 = data11.protect;if(Array.isArray(data12)){const len0 = data12.length;for(let i0=0; i0<len0; i0++){let data13 = data12[i0];if(typeof data13 === "string"){if(!pattern7.test(data13)){const err19 = {instancePath:instancePath+"/cleanup/protect/" + i0,schemaPath:"#/properties/cleanup/properties/protect/items/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9._*-]{1,128}$"},message:"must match pattern \""+"^[A-Za-z0-9._*-]{1,128}$"+"\""};if(vErrors === null){vErrors = [err19];}else {vErrors.push(err19);}errors++;}}else {const err20 = {instancePath:instancePath+"/cleanup/protect/" + i0,schemaPath:"#/properties/cleanup/properties/protect/items/type",keyword:"type",params:{type: "string"},message:"must be string"};if(vErrors === null){vErrors = [err20];}else {vErrors.push(err20);}errors++;}}}else {const err21 = {instancePath:instancePath+"/cleanup/protect",schemaPath:"#/properties/cleanup/properties/protect/type",keyword:"type",params:{type: "array"},message:"must be array"};if(vErrors === null){vErrors = [err21];}else {vErrors.push(err21);}errors++;}}if(data11["protect-releases"] !== undefined){if(typeof data11["protect-releases"] !== "boolean"){const err22 = {instancePath:instancePath+"/cleanup/protect-releases",schemaPath:"#/properties/cleanup/properties/protect-releases/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};if(vErrors === null){vErrors = [err22];}else {vErrors.push(err22);}errors++;}}if(data11["keep-builds"] !== undefined){let data15 = data11["keep-builds"];if(!(((typeof data15 == "number") && (!(data15 % 1) && !isNaN(data15))) && (isFinite(data15)))){const err23 = {instancePath:instancePath+"/cleanup/keep-builds",schemaPath:"#/properties/cleanup/properties/keep-builds/type",keyword:"type",params:{type: "integer"},message:"must be integer"};if(vErrors === null){vErrors = [err23];}else {vErrors.push(err23);}errors++;}if((typeof data15 == "number") && (isFinite(data15))){if(data15 < 1 || isNaN(data15)){const err24 = {instancePath:instancePath+"/cleanup/keep-builds",schemaPath:"#/properties/cleanup/properties/keep-builds/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};if(vErrors === null){vErrors = [err24];}else {vErrors.push(err24);}errors++;}}}if(data11["expire-after-days"] !== undefined){let data16 = data11["expire-after-days"];if(!(((typeof data16 == "number") && (!(data16 % 1) && !isNaN(data16))) && (isFinite(data16)))){const err25 = {instancePath:instancePath+"/cleanup/expire-after-days",schemaPath:"#/properties/cleanup/properties/expire-after-days/type",keyword:"type",params:{type: "integer"},message:"must be integer"};if(vErrors === null){vErrors = [err25];}else {vErrors.push(err25);}errors++;}if((typeof data16 == "number") && (isFinite(data16))){if(data16 < 1 || isNaN(data16)){const err26 = {instancePath:instancePath+"/cleanup/expire-after-days",schemaPath:"#/properties/cleanup/properties/expire-after-days/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};if(vErrors === null){vErrors = [err26];}else {vErrors.push(err26);}errors++;}}}if(data11["expire-untagged-after-days"] !== undefined){let data17 = data11["expire-untagged-after-days"];if(!(((typeof data17 == "number") && (!(data17 % 1) && !isNaN(data17))) && (isFinite(data17)))){const err27 = {instancePath:instancePath+"/cleanup/expire-untagged-after-days",schemaPath:"#/properties/cleanup/properties/expire-untagged-after-days/type",keyword:"type",params:{type: "integer"},message:"must be integer"};if(vErrors === null){vErrors = [err27];}else {vErrors.push(err27);}errors++;}if((typeof data17 == "number") && (isFinite(data17))){if(data17 < 1 || isNaN(data17)){const err28 = {instancePath:instancePath+"/cleanup/expire-untagged-after-days",schemaPath:"#/properties/cleanup/properties/expire-untagged-after-days/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};if(vErrors === null){vErrors = [err28];}else {vErrors.push(err28);}errors++;}}}if(data11["keep-minor-versions"] !== undefined){let data18 = data11["keep-minor-versions"];if(!(((typeof data18 == "number") && (!(data18 % 1) && !isNaN(data18))) && (isFinite(data18)))){const err29 = {instancePath:instancePath+"/cleanup/keep-minor-versions",schemaPath:"#/properties/cleanup/properties/keep-minor-versions/type",keyword:"type",params:{type: "integer"},message:"must be integer"};if(vErrors === null){vErrors = [err29];}else {vErrors.push(err29);}errors++;}if((typeof data18 == "number") && (isFinite(data18))){if(data18 < 1 || isNaN(data18)){const err30 = {instancePath:instancePath+"/cleanup/keep-minor-versions",schemaPath:"#/properties/cleanup/properties/keep-minor-versions/minimum",keyword:"minimum",params:{comparison: ">=", limit: 1},message:"must be >= 1"};if(vErrors === null){vErrors = [err30];}else {vErrors.push(err30);}errors++;}}}}else {const err31 = {instancePath:instancePath+"/cleanup",schemaPath:"#/properties/cleanup/type",keyword:"type",params:{type: "object"},message:"must be object"};if(vErrors === null){vErrors = [err31];}else {vErrors.push(err31);}errors++;}}if(data.gates !== undefined){let data19 = data.gates;if(data19 && typeof data19 == "object" && !Array.isArray(data19)){for(const key4 in data19){if(!((key4 === "guard") || (key4 === "tested"))){const err32 = {instancePath:instancePath+"/gates",schemaPath:"#/properties/gates/additionalProperties",keyword:"additionalProperties",params:{additionalProperty: key4},message:"must NOT have additional properties"};if(vErrors === null){vErrors = [err32];}else {vErrors.push(err32);}errors++;}}if(data19.guard !== undefined){let data20 = data19.guard;if(Array.isArray(data20)){const len1 = data20.length;for(let i1=0; i1<len1; i1++){let data21 = data20[i1];if(typeof data21 === "string"){if(!pattern2.test(data21)){const err33 = {instancePath:instancePath+"/gates/guard/" + i1,schemaPath:"#/properties/gates/properties/guard/items/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},message:"must match pattern \""+"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"+"\""};if(vErrors === null){vErrors = [err33];}else {vErrors.push(err33);}errors++;}}else {const err34 = {instancePath:instancePath+"/gates/guard/" + i1,schemaPath:"#/properties/gates/properties/guard/items/type",keyword:"type",params:{type: "string"},message:"must be string"};if(vErrors === null){vErrors = [err34];}else {vErrors.push(err34);}errors++;}}}else {const err35 = {instancePath:instancePath+"/gates/guard",schemaPath:"#/properties/gates/properties/guard/type",keyword:"type",params:{type: "array"},message:"must be array"};if(vErrors === null){vErrors = [err35];}else {vErrors.push(err35);}errors++;}}if(data19.tested !== undefined){let data22 = data19.tested;if(data22 && typeof data22 == "object" && !Array.isArray(data22)){for(const key5 in data22){const _errs49 = errors;if(typeof key5 === "string"){if(!pattern2.test(key5)){const err36 = {instancePath:instancePath+"/gates/tested",schemaPath:"#/properties/gates/properties/tested/propertyNames/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},message:"must match pattern \""+"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"+"\"",propertyName:key5};if(vErrors === null){vErrors = [err36];}else {vErrors.push(err36);}errors++;}}var valid10 = _errs49 === errors;if(!valid10){const err37 = {instancePath:instancePath+"/gates/tested",schemaPath:"#/properties/gates/properties/tested/propertyNames",keyword:"propertyNames",params:{propertyName: key5},message:"property name must be valid"};if(vErrors === null){vErrors = [err37];}else {vErrors.push(err37);}errors++;}}for(const key6 in data22){let data23 = data22[key6];if(typeof data23 === "string"){if(func3(data23) < 1){const err38 = {instancePath:instancePath+"/gates/tested/" + key6.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/gates/properties/tested/additionalProperties/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};if(vErrors === null){vErrors = [err38];}else {vErrors.push(err38);}errors++;}if(!pattern10.test(data23)){const err39 = {instancePath:instancePath+"/gates/tested/" + key6.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/gates/properties/tested/additionalProperties/pattern",keyword:"pattern",params:{pattern: "^(?:[A-Za-z0-9._*-]|\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\})+$"},message:"must match pattern \""+"^(?:[A-Za-z0-9._*-]|\\{[a-z_][a-z0-9_]*(?::[1-9][0-9]*)?\\})+$"+"\""};if(vErrors === null){vErrors = [err39];}else {vErrors.push(err39);}errors++;}}else {const err40 = {instancePath:instancePath+"/gates/tested/" + key6.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/gates/properties/tested/additionalProperties/type",keyword:"type",params:{type: "string"},message:"must be string"};if(vErrors === null){vErrors = [err40];}else {vErrors.push(err40);}errors++;}}}else {const err41 = {instancePath:instancePath+"/gates/tested",schemaPath:"#/properties/gates/properties/tested/type",keyword:"type",params:{type: "object"},message:"must be object"};if(vErrors === null){vErrors = [err41];}else {vErrors.push(err41);}errors++;}}}else {const err42 = {instancePath:instancePath+"/gates",schemaPath:"#/properties/gates/type",keyword:"type",params:{type: "object"},message:"must be object"};if(vErrors === null){vErrors = [err42];}else {vErrors.push(err42);}errors++;}}if(data.deployments !== undefined){let data24 = data.deployments;if(data24 && typeof data24 == "object" && !Array.isArray(data24)){for(const key7 in data24){const _errs55 = errors;if(typeof key7 === "string"){if(!pattern2.test(key7)){const err43 = {instancePath:instancePath+"/deployments",schemaPath:"#/properties/deployments/propertyNames/pattern",keyword:"pattern",params:{pattern: "^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"},message:"must match pattern \""+"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"+"\"",propertyName:key7};if(vErrors === null){vErrors = [err43];}else {vErrors.push(err43);}errors++;}}var valid12 = _errs55 === errors;if(!valid12){const err44 = {instancePath:instancePath+"/deployments",schemaPath:"#/properties/deployments/propertyNames",keyword:"propertyNames",params:{propertyName: key7},message:"property name must be valid"};if(vErrors === null){vErrors = [err44];}else {vErrors.push(err44);}errors++;}}for(const key8 in data24){let data25 = data24[key8];if(typeof data25 === "string"){if(func3(data25) > 255){const err45 = {instancePath:instancePath+"/deployments/" + key8.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/deployments/additionalProperties/maxLength",keyword:"maxLength",params:{limit: 255},message:"must NOT have more than 255 characters"};if(vErrors === null){vErrors = [err45];}else {vErrors.push(err45);}errors++;}if(func3(data25) < 1){const err46 = {instancePath:instancePath+"/deployments/" + key8.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/deployments/additionalProperties/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};if(vErrors === null){vErrors = [err46];}else {vErrors.push(err46);}errors++;}if(!pattern12.test(data25)){const err47 = {instancePath:instancePath+"/deployments/" + key8.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/deployments/additionalProperties/pattern",keyword:"pattern",params:{pattern: "^[^\\u0000-\\u001f]+$"},message:"must match pattern \""+"^[^\\u0000-\\u001f]+$"+"\""};if(vErrors === null){vErrors = [err47];}else {vErrors.push(err47);}errors++;}}else {const err48 = {instancePath:instancePath+"/deployments/" + key8.replace(/~/g, "~0").replace(/\//g, "~1"),schemaPath:"#/properties/deployments/additionalProperties/type",keyword:"type",params:{type: "string"},message:"must be string"};if(vErrors === null){vErrors = [err48];}else {vErrors.push(err48);}errors++;}}}else {const err49 = {instancePath:instancePath+"/deployments",schemaPath:"#/properties/deployments/type",keyword:"type",params:{type: "object"},message:"must be object"};if(vErrors === null){vErrors = [err49];}else {vErrors.push(err49);}errors++;}}}else {const err50 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "object"},message:"must be object"};if(vErrors === null){vErrors = [err50];}else {vErrors.push(err50);}errors++;}validate10.errors = vErrors;return errors === 0;}

// EXTERNAL MODULE: ./src/core/derive.ts
var derive = __webpack_require__(3868);
// EXTERNAL MODULE: ./src/core/convention.ts
var core_convention = __webpack_require__(6296);
// EXTERNAL MODULE: ./src/core/model.ts
var model = __webpack_require__(4146);
// EXTERNAL MODULE: ./src/core/tags.ts
var tags = __webpack_require__(2766);
// EXTERNAL MODULE: ./src/core/problems.ts
var core_problems = __webpack_require__(8155);
// EXTERNAL MODULE: ./src/core/version.ts
var version = __webpack_require__(3323);
;// CONCATENATED MODULE: ./src/core/convention-file.ts









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
const convention_file_validate = validate;
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
    if (!convention_file_validate(document))
        throw conventionError(origin, schemaProblems(convention_file_validate.errors ?? []));
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
    [convention_schema_namespaceObject.BG.v.T1]: 'must be a tag template: letters, digits, . _ - and {variables} such as {version} or {sha:7}',
    [convention_schema_namespaceObject.qo.sC.T1]: 'must contain {version} exactly once, and no other variable',
    [convention_schema_namespaceObject.qo.dU.T1]: 'must be a valid tag (letters, digits, . _ -; at most 128)',
    [convention_schema_namespaceObject.qo.VF.qo.G.BC.T1]: 'must be a tag or tag template, with * for any run of characters, such as staging or {version}-rc.*'
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
