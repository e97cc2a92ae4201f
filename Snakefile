# sedjax-workflow: galaxy SED fitting in JAX, from SSP grid to report.
# Run: snakemake --cores 2        (rules: workflow/rules/*.smk; config: config/config.yaml)
from snakemake.utils import min_version, validate

from sedjax.io.cliconfig import coerce_scalars
from sedjax.model.config_check import check_config

min_version("9.0")


configfile: "config/config.yaml"


# nested --config overrides arrive as strings ('true', '-2.5'): type them, then validate
# (validate fills every default of the schema, nested blocks included: the rules read config
# values directly and hold no defaults of their own)
coerce_scalars(config, only=workflow.config_settings.config)  # --config values only: file strings stay strings
validate(config, "config/schema.yaml")
check_config(config)  # the model's parameter names, priors, domains and bands (sedjax.model.config_check)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/ssp.smk"
include: "workflow/rules/nebular.smk"
include: "workflow/rules/mock.smk"
include: "workflow/rules/fits.smk"
include: "workflow/rules/benchmarks.smk"
include: "workflow/rules/batch.smk"
include: "workflow/rules/bench_sampler.smk"
include: "workflow/rules/bench_map.smk"
include: "workflow/rules/bench_posterior.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/device.smk"


rule all:
    input:
        final_outputs(),
    default_target: True
