md(r'''
(ch05)=
# Affect dynamics: correlated effects, two outcomes and person-specific variability

For up to 99 days, 193 people reported each evening how much negative affect (NA: feeling
upset, nervous, irritable) and positive affect (PA: feeling enthusiastic, alert, inspired) they had
felt that day {cite:p}`williams2020melsm`. With so many days per person we can ask more than "what is
each person's average mood?". We can ask whether a person's mood drifts over the study, whether
people who start high drift more, how NA and PA move together, and, the question this chapter
builds to, whether some people's moods *swing* more from day to day than others' do. The last
question needs a model in which the residual standard deviation itself varies between people: a
mixed-effects location-scale model (MELSM).

**Learning goals.** By the end of the chapter you can

- *write* a varying-intercept, varying-slope model whose person effects follow a multivariate
  normal distribution with an LKJ prior on their correlation matrix;
- *fit* it, a bivariate model with residual correlation and a MELSM with the course's
  correlated-effects builder, and *gate* each fit;
- *read* a correlation matrix of person effects and tell it apart from a residual correlation;
- *interpret* a MELSM's scale part: who is more variable, and whether a higher mean goes with
  more or less day-to-day variability;
- *compare* a model with and without a scale part by LOO.
''')

md(r'''
## Setup

Imports, the seed and the plotting style. Intervals are **95% equal-tailed** (the 2.5% and 97.5%
posterior quantiles), as brms prints them.
''')

code(r'''
import time
import warnings

# tqdm (imported by PyMC) warns that notebook progress widgets are missing; the course turns
# progress bars off when notebooks are executed, so the warning is noise.
warnings.filterwarnings("ignore", message="IProgress not found")

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from course_pkg.correlated import CorrelatedModel, Prior
from course_pkg.data import load_dataset
from course_pkg.diagnostics import (
    check_convergence,
    check_parity,
    printed_tolerance,
    summary_table,
)

# PyTensor warns once that it found no BLAS library; sampling runs on nutpie's compiled code.
warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS", category=UserWarning)

RANDOM_SEED = 14  # the seed the source passed to brms (R's and our random streams still differ)
rng = np.random.default_rng(RANDOM_SEED)
sns.set_theme(style="whitegrid")
plt.rcParams["figure.dpi"] = 80
INTERVAL = 0.95  # 95% equal-tailed intervals, as brms
''')

md(r'''
The setup ran without output. Every model in this chapter goes through two small functions: `fit`
builds a `CorrelatedModel`, samples it with the course defaults (nutpie, 4 chains of 1000 draws
after 1000 warm-up steps) and records how long building, compiling and sampling took; `gate`
applies the course's convergence gate to every parameter.
''')

code(r'''
timings = {}


def fit(name, model, **kwargs):
    """Sample a CorrelatedModel with the course defaults; record build, compile, sampling s."""
    start = time.perf_counter()
    _ = model.model  # build the PyMC graph now, so that its cost is measured apart
    build_s = time.perf_counter() - start
    idata = model.fit(random_seed=RANDOM_SEED, **kwargs)
    sampling_s = idata.attrs.get("sampling_s", idata.attrs["sampling_wall_s"])
    timings[name] = {"build_s": build_s,
                     "compile_s": idata.attrs["sampling_wall_s"] - sampling_s,
                     "sampling_s": sampling_s}
    return idata


def gate(name, idata):
    """The course's convergence gate on every parameter; report the weakest numbers."""
    table = check_convergence(idata)
    timings[name]["min_ess_bulk"] = table["ess_bulk"].min()
    print(f"{name} passes the gate: max R-hat {table['r_hat'].max():.3f}, "
          f"min bulk ESS {table['ess_bulk'].min():.0f}, "
          f"min tail ESS {table['ess_tail'].min():.0f}, {table.attrs['divergences']} divergences")
''')

md(r'''
## The data

`load_dataset("williams")` reads the file the source links to (checked against its SHA-256) and
renames its columns to snake case. The source read an earlier version of the same file whose
columns were called `record_id`, `N_A.std`, `P_A.std`, `N_A.lag` and `P_A.lag`; the values are the
same. The columns we use:

| column | in the source | meaning |
|---|---|---|
| `id` | `record_id` | person (categorical, 193 people) |
| `day` | `day` | study day, 2 to 100 |
| `day01` | `day01` | time rescaled to run from 0 (day 2) to 1 (day 100): $(\text{day} - 2) / \max(\text{day} - 2)$ |
| `na_std` | `N_A.std` | negative affect that day, standardised (SD units) |
| `pa_std` | `P_A.std` | positive affect that day, standardised |
| `na_lag`, `pa_lag` | `N_A.lag`, `P_A.lag` | the same person's NA and PA on the previous day, standardised |

The next cell loads the table and counts rows, people and days per person.
''')

code(r'''
d = load_dataset("williams")
days_per_person = d.groupby("id", observed=True).size()
print(f"{len(d)} rows, {d['id'].nunique()} people; days per person: "
      f"median {days_per_person.median():.0f}, min {days_per_person.min()}, "
      f"max {days_per_person.max()}")
d[["id", "day", "day01", "na_std", "pa_std", "na_lag", "pa_lag"]].head()
''')

md(r'''
13,033 daily reports from 193 people, between 8 and 99 days each with a median of 74: the same
counts as the source. The distribution of days per person:
''')

code(r'''
fig, ax = plt.subplots(figsize=(6, 3.5))
sns.histplot(days_per_person, bins=30, color="#1c5253", ax=ax)
ax.set(xlabel="number of days reported (days)", ylabel="people (count)", xlim=(0, None),
       title="How many days each person reported")
fig.tight_layout()
''')

md(r'''
Most people reported on 40 to 99 days, and a large group stayed in for nearly the whole study;
a few have fewer than 20 days. That is far more data per person than in the earlier chapters,
enough to estimate a separate trend and even a separate day-to-day spread for each person.

The next figure follows 16 people drawn at random: NA in dark green and PA in orange, day by day.
''')

code(r'''
sample_ids = np.sort(rng.choice(d["id"].cat.categories.to_numpy(), size=16, replace=False))
long = (d[d["id"].isin(sample_ids)]
        .melt(id_vars=["id", "day"], value_vars=["na_std", "pa_std"],
              var_name="affect", value_name="score")
        .replace({"affect": {"na_std": "negative (NA)", "pa_std": "positive (PA)"}}))
long["id"] = long["id"].astype(int)
grid = sns.relplot(data=long, x="day", y="score", hue="affect", col="id", col_wrap=4,
                   kind="line", palette=["#1c5253", "#e07a5f"], height=1.7, aspect=1.4,
                   linewidth=0.8, facet_kws={"sharey": True})
grid.set_axis_labels("study day (day)", "affect (SD units)")
grid.set_titles("person {col_name}")
grid.figure.suptitle("Daily negative and positive affect of 16 people", y=1.02)
None
''')

md(r'''
People differ in their typical level (some people's NA hugs the bottom of its scale, others' sits
higher), in whether their mood drifts over the study, and, very visibly, in how much it jumps from
one day to the next: some series are nearly flat, others spike. NA is skewed (most days are calm,
a few are bad), PA is more symmetric. The source plotted the lagged columns (`N_A.lag`,
`P_A.lag`); we plot the same day's scores, which are the outcomes of the models below.
''')

# ------------------------------------------------------------------------------------------ m1
md(r'''
## m1: varying intercepts and slopes, correlated

Write $\text{NA}_{i}$ for report $i$, made by person $\text{id}[i]$ at time $t_i$ (`day01`). Each
person gets their own intercept (their NA at the start of the study) and their own slope (their
change in NA over the whole study), and the two are allowed to be correlated across people:

$$
\begin{aligned}
\text{NA}_i &\sim \operatorname{Normal}(\mu_i, \sigma), \qquad
\mu_i = \alpha_{\text{id}[i]} + \beta_{\text{id}[i]}\, t_i,\\
\alpha_j &= \alpha + u_{\alpha, j}, \qquad \beta_j = \beta + u_{\beta, j},\\
\begin{bmatrix} u_{\alpha, j} \\ u_{\beta, j} \end{bmatrix}
  &\sim \operatorname{MVNormal}\!\left(\begin{bmatrix} 0 \\ 0 \end{bmatrix}, \mathbf{S}\right),
\qquad
\mathbf{S} = \begin{pmatrix} \sigma_\alpha & 0 \\ 0 & \sigma_\beta \end{pmatrix}
  \mathbf{R}
  \begin{pmatrix} \sigma_\alpha & 0 \\ 0 & \sigma_\beta \end{pmatrix},
\qquad \mathbf{R} = \begin{pmatrix} 1 & \rho \\ \rho & 1 \end{pmatrix},\\
\alpha &\sim \operatorname{Normal}(0, 0.2), \quad \beta \sim \operatorname{Normal}(0, 1), \quad
\sigma, \sigma_\alpha, \sigma_\beta \sim \operatorname{Exponential}(1), \quad
\mathbf{R} \sim \operatorname{LKJcorr}(2).
\end{aligned}
$$ (eq:ch05-m1)

$\alpha$ and $\beta$ are the average intercept and slope; $u_{\alpha,j}$ and $u_{\beta,j}$ are
person $j$'s deviations from them. Their covariance matrix $\mathbf{S}$ is split into the two
standard deviations $\sigma_\alpha$, $\sigma_\beta$ (how much people differ in level and in
trend) and the correlation matrix $\mathbf{R}$, whose single free entry $\rho$ says whether people
who start higher also change more ($\rho > 0$) or less ($\rho < 0$). The LKJ prior with
$\eta = 2$ puts a gentle hump at $\rho = 0$ (density $\propto 1 - \rho^2$ for two effects) and
rules out nothing. $\sigma$ is the day-to-day scatter of a person's NA around their own line,
the same for everyone in this model. (The source's written priors say Normal(0, 0.5) for $\beta$;
its brms code, which produced its numbers, uses Normal(0, 1), and so do we.)

Bambi cannot fit this model: its `(1 + day01 | id)` gives the intercepts and slopes independent
normal distributions (brms's `||`). The course's builder `CorrelatedModel` reads the same
lme4/brms formula and builds the PyMC model with an LKJ-Cholesky prior, non-centred
($u_j = \operatorname{diag}(\sigma_\alpha, \sigma_\beta)\,\mathbf{L}\, z_j$ with
$z_j \sim \operatorname{Normal}(0, I)$ and $\mathbf{R} = \mathbf{L}\mathbf{L}^\top$). Its
posterior uses brms's names: `Intercept`, `b`, `sd_id`, `cor_id`, `sigma` and the person effects
`r_id`.

```{note}
The source's brms call:

    brm(data = d, family = gaussian,
        N_A.std ~ 1 + day01 + (1 + day01 | record_id),
        prior = c(prior(normal(0, 0.2), class = Intercept),
                  prior(normal(0, 1), class = b),
                  prior(exponential(1), class = sd),
                  prior(exponential(1), class = sigma),
                  prior(lkj(2), class = cor)),
        iter = 3000, warmup = 1000, chains = 4, cores = 4, seed = 14)

One difference needs care. brms centres the population-level predictors before it applies the
`Intercept` prior: Normal(0, 0.2) is a prior on the expected NA at the *average* `day01` (0.43),
and brms reports the intercept at `day01 = 0` afterwards. The builder, like the formula, puts the
prior on the intercept at `day01 = 0`. To give the prior the same meaning as in brms, we hand the
builder a centred copy `day01_c` in the population-level part and the raw `day01` in the person
part (brms does not centre group-level terms either), then convert the intercept back to
`day01 = 0`. The source ran 4 × 2000 draws; we run 4 × 1000, which the gate judges enough.
```

The next cell adds the centred time column and builds the model; printing it summarises what the
builder understood.
''')

code(r'''
d["day01_c"] = d["day01"] - d["day01"].mean()

priors_m1 = {
    "Intercept": Prior("Normal", mu=0, sigma=0.2),
    "b": Prior("Normal", mu=0, sigma=1),
    "sd": Prior("Exponential", lam=1),
    "sigma": Prior("Exponential", lam=1),
    "cor": 2,  # LKJ eta
}
m1 = CorrelatedModel("na_std ~ 1 + day01_c + (1 + day01 | id)", d, priors=priors_m1)
print(m1)
''')

md(r'''
One correlated block of two effects (intercept and `day01`) for each of the 193 people, from all
13,033 rows. The next cell samples it and applies the gate.
''')

code(r'''
idata_m1 = fit("m1", m1)
gate("m1", idata_m1)
''')

md(r'''
m1 passes the gate. The next cell converts the intercept back to `day01 = 0`, as brms reports it
(`b_Intercept` $= \text{Intercept} - \beta \cdot \overline{\text{day01}}$), and prints a brms-style
summary.
''')

code(r'''
def uncentre_intercept(idata, centre, prefix="", slope="day01_c"):
    """Add brms's b_Intercept: the intercept at day01 = 0 from the one at the mean day01."""
    post = idata.posterior
    post[f"{prefix}b_Intercept"] = (post[f"{prefix}Intercept"]
                                    - post[f"{prefix}b"].sel({f"{prefix}b_dim": slope}) * centre)
    post[f"{prefix}b_Intercept"] = post[f"{prefix}b_Intercept"].drop_vars(f"{prefix}b_dim")


def add_correlations(idata, block="id"):
    """Add each lower-triangle entry of cor_<block> as a scalar variable cor(a, b), as brms."""
    post = idata.posterior
    cor = post[f"cor_{block}"]
    coefs = list(cor[f"{block}__coef"].values)
    names = []
    for i, a in enumerate(coefs):
        for b in coefs[:i]:
            name = f"cor({b}, {a})"
            post[name] = cor.sel({f"{block}__coef": b, f"{block}__coef_bis": a}).drop_vars(
                [f"{block}__coef", f"{block}__coef_bis"])
            names.append(name)
    return names


DAY01_MEAN = d["day01"].mean()
uncentre_intercept(idata_m1, DAY01_MEAN)
cor_names_m1 = add_correlations(idata_m1)
summary_m1 = summary_table(idata_m1, ["b_Intercept", "b", "sd_id", *cor_names_m1, "sigma"])
summary_m1
''')

md(r'''
On average NA barely moves: it starts near 0 SD (the intercept) and falls by about 0.16 SD over
the whole study (`b[day01_c]`, the slope of time in the centred copy, which is the same slope as
brms's `day01`). People differ a lot around those averages. Their starting levels scatter with a
standard deviation of about 0.77 SD and their trends with about 0.65 SD, so one person's NA may
fall by a whole SD over the study while another's rises. The correlation of intercepts and slopes
is about −0.34: people who start with high NA tend to improve more, partly a regression to their
own mean. Day-to-day scatter around a person's line is $\sigma \approx 0.61$.

The next figure shows the same correlation person by person: each dot is one person's intercept
and slope (posterior means, $\alpha + u_{\alpha,j}$ and $\beta + u_{\beta,j}$), with the population
mean and a 95% ellipse of the fitted bivariate normal (posterior means of its parameters).
''')

code(r'''
post_m1 = idata_m1.posterior
alpha_m1 = post_m1["b_Intercept"] + post_m1["r_id"].sel(id__coef="Intercept")
beta_m1 = post_m1["b"].sel(b_dim="day01_c") + post_m1["r_id"].sel(id__coef="day01")
people_m1 = pd.DataFrame({"intercept": alpha_m1.mean(("chain", "draw")).values,
                          "slope": beta_m1.mean(("chain", "draw")).values})


def ellipse_points(mean, cov, level=0.95, n=200):
    """Points on the level-ellipse of a bivariate normal (chi-square quantile with 2 df)."""
    radius = np.sqrt(-2 * np.log(1 - level))
    angle = np.linspace(0, 2 * np.pi, n)
    circle = np.column_stack([np.cos(angle), np.sin(angle)])
    return np.asarray(mean) + radius * circle @ np.linalg.cholesky(cov).T


sd_mean = post_m1["sd_id"].mean(("chain", "draw")).values
rho_mean = float(post_m1["cor_id"].sel(id__coef="Intercept", id__coef_bis="day01").mean())
cov_mean = np.outer(sd_mean, sd_mean) * np.array([[1, rho_mean], [rho_mean, 1]])
centre = [float(post_m1["b_Intercept"].mean()), float(post_m1["b"].sel(b_dim="day01_c").mean())]
ring = ellipse_points(centre, cov_mean)

fig, ax = plt.subplots(figsize=(5.5, 4.5))
sns.scatterplot(data=people_m1, x="intercept", y="slope", s=18, color="#1c5253", ax=ax)
ax.plot(ring[:, 0], ring[:, 1], color="#e07a5f", lw=1.5, label="95% of the fitted population")
ax.scatter(*centre, marker="+", s=150, color="#e07a5f", label="population mean")
ax.set(xlabel="intercept: NA on day 2 (SD units)", ylabel="slope: change in NA over the study (SD)",
       title="m1: each person's intercept and slope")
ax.legend(loc="upper right", fontsize=9)
fig.tight_layout()
''')

md(r'''
The cloud tilts down from left to right: people with higher starting NA tend to have more
negative slopes. The points sit inside the ellipse and are a little less spread than it, as
partially pooled estimates are (each person's point is pulled toward the mean). People on the
far right, with high NA at the start, mostly improve.
''')

# ------------------------------------------------------------------------------------------ m2
md(r'''
## m2: two outcomes at once

m1 modelled NA alone; a second model could do the same for PA. A **multivariate** model fits both
outcomes together, which buys two things a pair of separate models cannot give: the correlations
between the person effects of the two outcomes (do people with high NA have low PA?), and the
correlation of the two outcomes' day-to-day residuals (on a day when someone's NA is above their
own expected level, is their PA below it?).

Following the source, each outcome gets the same predictors: time and yesterday's NA and PA
(`na_lag`, `pa_lag`; the lagged scores make this a small vector-autoregressive model: how much
of today's mood carries over from yesterday's). Every coefficient varies by person, and all eight
person effects, four for NA and four for PA, share one correlated block:

$$
\begin{aligned}
\begin{bmatrix} \text{NA}_i \\ \text{PA}_i \end{bmatrix}
  &\sim \operatorname{MVNormal}\!\left(
    \begin{bmatrix} \mu_{\text{NA}, i} \\ \mu_{\text{PA}, i} \end{bmatrix},
    \begin{pmatrix} \sigma_{\text{NA}}^2 & \rho_\varepsilon \sigma_{\text{NA}}\sigma_{\text{PA}} \\
      \rho_\varepsilon \sigma_{\text{NA}}\sigma_{\text{PA}} & \sigma_{\text{PA}}^2 \end{pmatrix}
  \right),\\
\mu_{k, i} &= (\alpha_k + u_{1k,\text{id}[i]})
  + (\beta_{1k} + u_{2k,\text{id}[i]})\, t_i
  + (\beta_{2k} + u_{3k,\text{id}[i]})\, \text{NA}_{i-1}
  + (\beta_{3k} + u_{4k,\text{id}[i]})\, \text{PA}_{i-1},
  \qquad k \in \{\text{NA}, \text{PA}\},\\
\mathbf{u}_j = (u_{1,\text{NA}}, \dots, u_{4,\text{NA}}, u_{1,\text{PA}}, \dots, u_{4,\text{PA}})_j
  &\sim \operatorname{MVNormal}(\mathbf{0}, \mathbf{L}\mathbf{R}\mathbf{L}), \qquad
\mathbf{L} = \operatorname{diag}(\sigma_{1,\text{NA}}, \dots, \sigma_{4,\text{PA}}),\\
\alpha_k &\sim \operatorname{Normal}(0, 0.2), \quad \beta_{\cdot k} \sim \operatorname{Normal}(0, 1),
\quad \mathbf{R} \sim \operatorname{LKJcorr}(2), \quad
\rho_\varepsilon \sim \operatorname{LKJcorr}(1).
\end{aligned}
$$ (eq:ch05-m2)

Two correlation structures are in this model, and they answer different questions:

- $\mathbf{R}$ is an $8 \times 8$ correlation matrix **between people**. Its entry for (NA
  intercept, PA intercept) asks whether people whose NA is generally high have generally low PA;
  its entry for (NA intercept, NA lag slope) asks whether people with high NA also have more
  persistent NA. Each entry is estimated from 193 people.
- $\rho_\varepsilon$ (brms's `rescor`) is a correlation **within a person, between days**: after
  each person's expected NA and PA for a day are accounted for, do the two leftovers move
  together? It is estimated from 13,033 days.

The source set priors only for the intercepts, the slopes and $\mathbf{R}$; brms's defaults then
apply to the standard deviations (a half Student-$t$ with 3 degrees of freedom and scale 2.5) and
LKJ(1), uniform, to $\rho_\varepsilon$. The builder's defaults for these classes are the same
families; its `prior_table()` lists them.

```{note}
The source's brms call:

    bf_na = bf(N_A.std ~ 1 + day01 + N_A.lag + P_A.lag +
                 (1 + day01 + N_A.lag + P_A.lag | c | record_id))
    bf_pa = bf(P_A.std ~ 1 + day01 + N_A.lag + P_A.lag +
                 (1 + day01 + N_A.lag + P_A.lag | c | record_id))
    brm(data = d, family = gaussian,
        bf_na + bf_pa + set_rescor(TRUE),
        prior = c(prior(normal(0, 0.2), class = Intercept),
                  prior(normal(0, 1), class = b),
                  prior(lkj(2), class = cor)),
        iter = 3000, warmup = 1000, chains = 4, cores = 4, seed = 14)

The `|c|` between the bars is brms's block label: the two outcomes' person terms with the same
label form one correlated block (without it, each outcome would have its own $4 \times 4$ matrix
and nothing would link NA's person effects to PA's). The builder reads the same syntax. Two
formulas make a bivariate model, and `rescor=True` is `set_rescor(TRUE)`. As for m1, the
population-level predictors are centred copies so that the `Intercept` priors mean what they mean
in brms.
```
''')

md(r'''
The next cell adds centred copies of the two lagged scores, builds the bivariate model and prints
its structure.
''')

code(r'''
for col in ("na_lag", "pa_lag"):
    d[f"{col}_c"] = d[col] - d[col].mean()

rhs = "1 + day01_c + na_lag_c + pa_lag_c + (1 + day01 + na_lag + pa_lag |c| id)"
priors_m2 = {
    "na_std_Intercept": Prior("Normal", mu=0, sigma=0.2),
    "pa_std_Intercept": Prior("Normal", mu=0, sigma=0.2),
    "na_std_b": Prior("Normal", mu=0, sigma=1),
    "pa_std_b": Prior("Normal", mu=0, sigma=1),
    "cor": 2,
}
m2 = CorrelatedModel([f"na_std ~ {rhs}", f"pa_std ~ {rhs}"], d, priors=priors_m2, rescor=True)
print(m2)
''')

md(r'''
One block of eight person effects and an estimated residual correlation. The next cell fits and
gates it.
''')

code(r'''
idata_m2 = fit("m2", m2)
gate("m2", idata_m2)
''')

md(r'''
m2 passes the gate. Its population-level coefficients (intercepts converted back to
`day01 = 0` and zero lags, as brms reports them), residual standard deviations and residual
correlation:
''')

code(r'''
post_m2 = idata_m2.posterior
centres = {"day01_c": DAY01_MEAN, "na_lag_c": d["na_lag"].mean(), "pa_lag_c": d["pa_lag"].mean()}
for out in ("na_std", "pa_std"):
    shift = sum(post_m2[f"{out}_b"].sel({f"{out}_b_dim": k}) * v for k, v in centres.items())
    post_m2[f"{out}_b_Intercept"] = (post_m2[f"{out}_Intercept"] - shift).drop_vars(
        f"{out}_b_dim")
summary_table(idata_m2, ["na_std_b_Intercept", "na_std_b", "pa_std_b_Intercept", "pa_std_b",
                         "sigma_na_std", "sigma_pa_std", "rescor"])
''')

md(r'''
The population-level coefficients describe an average person's day. The residual correlation
$\rho_\varepsilon$ is clearly negative: on a day when someone's NA is higher than their own model
expects, their PA tends to be lower than expected. (A note on reading the lag slopes: they are the
*average* carry-over; the eight person effects let each person have their own.)

### The 8 × 8 correlation matrix of person effects

The next figure shows the posterior mean of every correlation in $\mathbf{R}$. Each cell of the
lower triangle is annotated with its mean and 95% interval; cells whose interval excludes zero are
outlined.
''')

code(r'''
cor_m2 = post_m2["cor_id"]
labels = [lab.replace("na_std_", "NA: ").replace("pa_std_", "PA: ")
          for lab in cor_m2["id__coef"].values]
cor_mean = cor_m2.mean(("chain", "draw")).values
cor_lo = cor_m2.quantile(0.025, ("chain", "draw")).values
cor_hi = cor_m2.quantile(0.975, ("chain", "draw")).values


def correlation_heatmap(mean, lo, hi, labels, ax=None):
    """Lower triangle of a correlation matrix: colour = posterior mean, text = mean [95% CI]."""
    if ax is None:
        _, ax = plt.subplots()
    k = len(labels)
    mask = np.triu(np.ones((k, k), dtype=bool))
    sns.heatmap(pd.DataFrame(mean, index=labels, columns=labels), mask=mask, vmin=-1, vmax=1,
                cmap="vlag", square=True, cbar_kws={"label": "posterior mean correlation",
                                                      "shrink": 0.7}, ax=ax)
    for i in range(k):
        for j in range(i):
            ax.text(j + 0.5, i + 0.5, f"{mean[i, j]:.2f}\n[{lo[i, j]:.2f}, {hi[i, j]:.2f}]",
                    ha="center", va="center", fontsize=6.5)
            if lo[i, j] > 0 or hi[i, j] < 0:
                ax.add_patch(plt.Rectangle((j, i), 1, 1, fill=False, lw=1.5, color="black"))
    return ax


fig, ax = plt.subplots(figsize=(8.5, 7))
correlation_heatmap(cor_mean, cor_lo, cor_hi, labels, ax=ax)
ax.set(title="m2: correlations of the eight person effects (mean [95% interval])")
fig.tight_layout()
''')

md(r'''
How to read it, block by block:

- **NA with NA** (upper-left $4 \times 4$) and **PA with PA** (lower-right): how a person's
  level, trend and carry-over hang together within one outcome. The (NA: Intercept, NA: day01)
  cell is m1's $\rho$, now estimated with the lags in the model.
- **NA with PA** (lower-left $4 \times 4$): the cross-outcome correlations that only a joint model
  estimates. The (NA: Intercept, PA: Intercept) cell says whether people who have more negative
  affect also have less positive affect, on average across their days.

These are correlations between *people*; they say nothing about what happens within a person from
day to day, which is the job of $\rho_\varepsilon$ above. A person-level correlation near zero
together with a clearly negative residual correlation, for instance, would mean that NA and PA
are separate traits but see-saw within a person's days.
''')

# ------------------------------------------------------------------------------------------ m3
md(r'''
## m3: a mixed-effects location-scale model

m1 gives everyone the same day-to-day scatter $\sigma$. The figure of 16 people disagreed: some
series were almost flat, others jumped. A **mixed-effects location-scale model** (MELSM) gives
every person their own residual standard deviation, modelled on the log scale with a person
effect of its own, and lets that effect correlate with the person effects of the mean:

$$
\begin{aligned}
\text{NA}_i &\sim \operatorname{Normal}(\mu_i, \sigma_i),\\
\mu_i &= \beta_0 + \beta_1 t_i + u_{0,\text{id}[i]} + u_{1,\text{id}[i]}\, t_i
  && \text{(location)},\\
\log \sigma_i &= \eta_0 + u_{2,\text{id}[i]} && \text{(scale)},\\
(u_{0}, u_{1}, u_{2})_j &\sim \operatorname{MVNormal}(\mathbf{0},
  \operatorname{diag}(\tau_0, \tau_1, \tau_2)\, \mathbf{R}\,
  \operatorname{diag}(\tau_0, \tau_1, \tau_2)),\\
\beta_0 &\sim \operatorname{Normal}(0, 0.2), \quad \beta_1 \sim \operatorname{Normal}(0, 1), \quad
\eta_0 \sim \operatorname{Normal}(0, 1),\\
\tau_0, \tau_1, \tau_2 &\sim \operatorname{Exponential}(1), \quad
\mathbf{R} \sim \operatorname{LKJcorr}(2).
\end{aligned}
$$ (eq:ch05-m3)

The location part is m1. In the scale part, $\exp(\eta_0)$ is the residual SD of a typical person
and $\tau_2$ says how much people differ in it, on the log scale: $\tau_2 = 0.4$ would mean that
people one SD above the typical person have a residual SD $e^{0.4} \approx 1.5$ times as large.
The three person effects share one $3 \times 3$ correlation matrix; its entries with $u_2$ ask
whether people with a higher mean NA ($u_0$) or a steeper trend ($u_1$) also have more volatile
NA. The log link keeps every $\sigma_i$ positive.

```{note}
The source's brms call:

    brm(data = d, family = gaussian,
        bf(N_A.std ~ 1 + day01 + (1 + day01 |i| record_id),
           sigma ~ 1 + (1 |i| record_id)),
        prior = c(prior(normal(0, 0.2), class = Intercept),
                  prior(normal(0, 1), class = b),
                  prior(exponential(1), class = sd),
                  prior(normal(0, 1), class = Intercept, dpar = sigma),
                  prior(exponential(1), class = sd, dpar = sigma),
                  prior(lkj(2), class = cor)),
        iter = 3000, warmup = 1000, chains = 4, cores = 4, seed = 14)

The label `|i|` joins the location terms and the scale term into one correlated block, as `|c|`
did across outcomes in m2. In the builder the scale formula is the `sigma=` argument; its prior
classes carry a `sigma_` prefix (`sigma_Intercept`), and the `sd` prior covers every standard
deviation of the block, which is what the source's two `exponential(1)` priors amount to. The
source saved this fit under the same file name as m2 (`m81.2`), so its printed output for m3 may
not be what it says; the reference numbers for this chapter (below) were made separately.
```

The next cell builds the MELSM.
''')

code(r'''
priors_m3 = {
    "Intercept": Prior("Normal", mu=0, sigma=0.2),
    "b": Prior("Normal", mu=0, sigma=1),
    "sigma_Intercept": Prior("Normal", mu=0, sigma=1),
    "sd": Prior("Exponential", lam=1),
    "cor": 2,
}
m3 = CorrelatedModel("na_std ~ 1 + day01_c + (1 + day01 |i| id)", d,
                     sigma="sigma ~ 1 + (1 |i| id)", priors=priors_m3)
print(m3)
''')

md(r'''
One block, three effects per person: the location intercept and slope and the scale intercept.
The next cell fits and gates it.
''')

code(r'''
idata_m3 = fit("m3", m3)
gate("m3", idata_m3)
''')

md(r'''
m3 passes the gate. Its summary, with the location intercept converted back to `day01 = 0` and
the scale intercept also shown on the SD scale ($\exp(\eta_0)$, the residual SD of a typical
person):
''')

code(r'''
post_m3 = idata_m3.posterior
uncentre_intercept(idata_m3, DAY01_MEAN)
post_m3["typical_sigma"] = np.exp(post_m3["sigma_Intercept"])
cor_names_m3 = add_correlations(idata_m3)
summary_table(idata_m3, ["b_Intercept", "b", "sigma_Intercept", "typical_sigma", "sd_id",
                         *cor_names_m3])
''')

md(r'''
The location part reads as in m1. The scale part is new: a typical person's NA scatters around
their own line with an SD of about $\exp(\eta_0)$, and the SD of the person effects on
$\log\sigma$, $\tau_2$ (`sd_id[sigma_Intercept]`), is large, so people differ several-fold in how
much their NA moves from day to day. The correlations with `sigma_Intercept` answer the chapter's
question about mean and variability; the figures below show them person by person.

### Who is more variable?

Each person's location intercept $\beta_0 + u_{0j}$ (their expected NA on day 2) and their
residual SD $\sigma_j = \exp(\eta_0 + u_{2j})$, with 95% intervals:
''')

code(r'''
r_m3 = post_m3["r_id"]
location = post_m3["b_Intercept"] + r_m3.sel(id__coef="Intercept")
scale = np.exp(post_m3["sigma_Intercept"] + r_m3.sel(id__coef="sigma_Intercept"))


def person_interval(draws, name):
    """Posterior mean and 95% equal-tailed interval per person."""
    q = draws.quantile([0.025, 0.975], ("chain", "draw"))
    return pd.DataFrame({name: draws.mean(("chain", "draw")).values,
                         f"{name}_lo": q.sel(quantile=0.025).values,
                         f"{name}_hi": q.sel(quantile=0.975).values},
                        index=draws["id__level"].values.astype(int))


people_m3 = person_interval(location, "location").join(person_interval(scale, "scale"))
people_m3 = people_m3.join(days_per_person.set_axis(days_per_person.index.astype(int))
                          .rename("days"))

fig, ax = plt.subplots(figsize=(6.5, 5))
ax.errorbar(people_m3["location"], people_m3["scale"],
            xerr=[people_m3["location"] - people_m3["location_lo"],
                  people_m3["location_hi"] - people_m3["location"]],
            yerr=[people_m3["scale"] - people_m3["scale_lo"],
                  people_m3["scale_hi"] - people_m3["scale"]],
            fmt="o", ms=3, color="#1c5253", ecolor="0.75", elinewidth=0.7)
ax.set(xlabel="location intercept: expected NA on day 2 (SD units)",
       ylabel="residual SD of NA, $\\sigma_j$ (SD units)", yscale="log",
       title="m3: each person's mean level and day-to-day variability")
fig.tight_layout()
print(people_m3[["location", "scale"]].describe().loc[["min", "25%", "50%", "75%", "max"]]
      .round(2).T.to_string())
''')

md(r'''
Two things stand out. First, people differ enormously in variability: the most stable people's
NA moves by a few hundredths of an SD from day to day, the most volatile people's by more than a
whole SD. A single $\sigma$, as in m1, averages over that range. The intervals are narrow because
each person has dozens of days. Second, the cloud rises from left to right: people with a higher
mean NA have more variable NA. The correlation of the two person effects in the summary above says
the same in one number.

Part of this is a property of the measurement as much as of people: NA is reported on a scale with
a floor, and someone who rarely feels any negative affect reports the floor value day after day,
which leaves no room for variability. A high mean leaves room to move in both directions. The
MELSM describes this pattern; explaining it needs more than these data.

### Four people, their fitted mean and their band

The next figure shows four people: the least and the most variable person (by posterior mean of
$\sigma_j$) and two people near the median. For each, the data, the fitted mean $\mu$ (line) and
the band $\mu \pm 2\sigma_j$ (posterior means), within which about 95% of a person's days should
fall if the model is right.
''')

code(r'''
order = people_m3.sort_values("scale")
median_pos = len(order) // 2
chosen = [order.index[0], order.index[median_pos - 1], order.index[median_pos], order.index[-1]]
subset = d[d["id"].astype(int).isin(chosen)].reset_index(drop=True)
subset["mu"] = m3.predict(idata_m3, subset, kind="mean").mean(("chain", "draw")).values
subset["sigma"] = m3.predict(idata_m3, subset, kind="sigma").mean(("chain", "draw")).values

fig, axs = plt.subplots(1, 4, figsize=(12, 3.2), sharey=True)
for ax, person in zip(axs, chosen, strict=True):
    rows = subset[subset["id"].astype(int) == person]
    ax.fill_between(rows["day"], rows["mu"] - 2 * rows["sigma"], rows["mu"] + 2 * rows["sigma"],
                    color="#e07a5f", alpha=0.25, lw=0, label="$\\mu \\pm 2\\sigma_j$")
    ax.plot(rows["day"], rows["mu"], color="#e07a5f", lw=1.5, label="fitted mean $\\mu$")
    ax.scatter(rows["day"], rows["na_std"], s=6, color="#1c5253", label="observed NA")
    inside = np.mean(np.abs(rows["na_std"] - rows["mu"]) <= 2 * rows["sigma"])
    ax.set(title=f"person {person}: $\\sigma_j$ = {rows['sigma'].iloc[0]:.2f}\n"
                 f"{inside:.0%} of days in the band", xlabel="study day (day)")
axs[0].set_ylabel("negative affect (SD units)")
axs[0].legend(loc="upper left", fontsize=8)
fig.tight_layout()
''')

md(r'''
The least variable person sits on a nearly constant value (the floor of the scale, a low NA), so
their band is a thin line; the most variable person's NA spans several SD and so does their
band. In m1 all four would share one band of $\pm 2 \times 0.61$: far too wide for the first
person and far too narrow for the last. The share of days inside each band is near 95%, the
share the model expects; where it is not (a floor value repeated day after day is not a normal
distribution), the model's normal likelihood is the approximation to question.
''')

# ------------------------------------------------------------------------------------------ LOO
md(r'''
## What the scale part adds: m1 against m3 by LOO

m1 and m3 have the same outcome, the same rows and the same location part; they differ only in
whether $\sigma$ varies by person. PSIS-LOO {cite:p}`vehtari2017loo` estimates each model's
expected log predictive density for a held-out day (elpd); the builder stored the pointwise
log-likelihood it needs. We count the Pareto-$k$ diagnostics before reading the comparison.
''')

code(r'''
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
    loo = {name: az.loo(idata, pointwise=True)
           for name, idata in (("m1", idata_m1), ("m3 (MELSM)", idata_m3))}
    comparison = az.compare({"m1": idata_m1, "m3 (MELSM)": idata_m3})

bins = [-np.inf, 0.5, 0.7, 1.0, np.inf]
k_labels = ["k <= 0.5", "0.5 < k <= 0.7", "0.7 < k <= 1", "k > 1"]
print(pd.DataFrame({name: pd.cut(res.pareto_k.values, bins, labels=k_labels)
                    .value_counts().sort_index() for name, res in loo.items()}).T.to_string())
comparison[["elpd_loo", "p_loo", "elpd_diff", "dse", "se", "weight"]].round(1)
''')

md(r'''
Nearly every observation has a small Pareto $k$, so the LOO estimates can be trusted (a handful
of days with larger $k$ are extreme days of individual people; they cannot move a difference this
large). The MELSM predicts held-out days much better: its elpd is higher by hundreds of units,
many standard errors of the difference (`dse`). It spends a little more on effective parameters
(`p_loo`) and gains far more in fit.

What does the scale part add? Three things. **Calibration**: m1's single band is too wide for
stable people and too narrow for volatile ones, so its predictive densities are wrong for both
groups; that is where the elpd gain comes from. **Weighting**: in m3 a volatile person's days
count for less in estimating their mean, and a stable person's for more, as in weighted least
squares. **A new question**: day-to-day variability becomes a person characteristic that can be
correlated with other person characteristics (as here with the mean) or, in an extended model,
predicted by covariates such as sex or activity.
''')

# ------------------------------------------------------------------------------------------ parity
md(r'''
## Parity with the source

The source printed no summaries for its models, so the reference numbers come from a separate
brms 2.18 fit of m1 with the source's formula, priors and seed (4 chains of 3000 iterations,
1000 warm-up), stored with the course's shared references. It took 793 s on a 2-core machine.
We compare posterior means; each tolerance is half a unit of brms's last printed digit plus three
Monte Carlo standard errors of our estimate (`printed_tolerance`). The cell raises if any estimate
is outside its tolerance.
''')

code(r'''
brms_m1 = {  # brms 2.18, posterior means (shared reference file brms_affect.md)
    "b_Intercept": 0.03, "b_day01": -0.16, "sd(Intercept)": 0.77, "sd(day01)": 0.65,
    "cor(Intercept, day01)": -0.34, "sigma": 0.61,
}
brms_m1_intervals = {
    "b_Intercept": (-0.08, 0.14), "b_day01": (-0.27, -0.05), "sd(Intercept)": (0.70, 0.86),
    "sd(day01)": (0.57, 0.74), "cor(Intercept, day01)": (-0.48, -0.18), "sigma": (0.60, 0.62),
}
ours_draws = {
    "b_Intercept": post_m1["b_Intercept"],
    "b_day01": post_m1["b"].sel(b_dim="day01_c"),
    "sd(Intercept)": post_m1["sd_id"].sel(id__coef="Intercept"),
    "sd(day01)": post_m1["sd_id"].sel(id__coef="day01"),
    "cor(Intercept, day01)": post_m1["cor(Intercept, day01)"],
    "sigma": post_m1["sigma"],
}
ours = {k: float(v.mean()) for k, v in ours_draws.items()}
tolerance = {k: printed_tolerance(2, float(az.mcse(v.drop_vars(
    [c for c in v.coords if c not in ("chain", "draw")])).to_array().squeeze()))
    for k, v in ours_draws.items()}
parity = check_parity(ours, brms_m1, tolerance, source="brms (m1)")
parity["our 95% interval"] = [
    "[{:.2f}, {:.2f}]".format(*np.quantile(ours_draws[k].values, [0.025, 0.975]))
    for k in parity.index]
parity["brms 95% interval"] = ["[{:.2f}, {:.2f}]".format(*brms_m1_intervals[k])
                               for k in parity.index]
parity.round(4)
''')

md(r'''
All six estimates agree with brms within their tolerances, and the intervals agree to about one
unit in the second decimal. We reach them with 4000 draws in the time table below rather than
brms's 8000 in 793 s.

**m2 and m3 have no reference numbers yet.** The brms fit of the MELSM with the source's settings
ran for more than 99 minutes on the reference machine without finishing, and m2 has not been run
either; the source itself printed no output for either model. We do not invent numbers for them.
Their correctness rests instead on the builder's own tests (`tests/test_correlated.py`), which
simulate data from a location-scale model with a shared block and from a bivariate model with
residual correlation, fit them and check that the known correlations and standard deviations are
recovered; and on m3's location part reproducing m1's population-level estimates.

The time each fit took, on a 2-core machine shared with other work while this notebook ran (so the
numbers are upper bounds):
''')

code(r'''
timing_table = pd.DataFrame(timings).T
timing_table["min ESS / s"] = timing_table["min_ess_bulk"] / timing_table["sampling_s"]
timing_table.round(1)
''', tags=["nbval-ignore-output"])

md(r'''
Building each PyMC graph takes about a second, compiling it a little longer, and sampling well
under the 793 s brms needed for m1 (which included compiling the Stan model).
''')

# ------------------------------------------------------------------------------------------ exercises
md(r'''
## Exercises

```{exercise}
:label: ch05-ex1

*(Easy.)* Using m1's posterior, compute (a) the posterior probability that the correlation of
intercepts and slopes is negative, and (b) the standard deviation of people's expected NA at the
*end* of the study, $\operatorname{sd}(u_{\alpha} + u_{\beta}) =
\sqrt{\sigma_\alpha^2 + \sigma_\beta^2 + 2\rho\,\sigma_\alpha\sigma_\beta}$, with a 95% interval.
Do people differ more at the start or at the end?
```
''')

md(r'''
```{solution-start} ch05-ex1
:class: dropdown
```

Both are computed draw by draw from the posterior; no refitting is needed.
''')

code(r'''
rho = post_m1["cor(Intercept, day01)"]
sd_a = post_m1["sd_id"].sel(id__coef="Intercept")
sd_b = post_m1["sd_id"].sel(id__coef="day01")
sd_end = np.sqrt(sd_a**2 + sd_b**2 + 2 * rho * sd_a * sd_b)
print(f"P(rho < 0) = {float((rho < 0).mean()):.3f}")
for label, draws in (("start (day01 = 0)", sd_a), ("end (day01 = 1)", sd_end)):
    lo, hi = np.quantile(draws.values, [0.025, 0.975])
    print(f"sd of expected NA at the {label}: {float(draws.mean()):.2f} [{lo:.2f}, {hi:.2f}]")
''')

md(r'''
Essentially all the posterior mass has $\rho < 0$. Because the correlation is negative, the
spread of people at the end is smaller than $\sigma_\alpha$ plus $\sigma_\beta$ would suggest:
people who start high tend to come down, so the differences between people shrink somewhat over
the study, though they remain large.

```{solution-end}
```
''')

md(r'''
```{exercise}
:label: ch05-ex2

*(Medium.)* Using m3's posterior, compute for each person the posterior probability that their
residual SD $\sigma_j$ is larger than the typical person's, $\exp(\eta_0)$. How many people are
credibly more variable than typical (probability above 0.975), and how many credibly less
variable (below 0.025)? Does the number of days a person reported matter for this?
```
''')

md(r'''
```{solution-start} ch05-ex2
:class: dropdown
```

$\sigma_j > \exp(\eta_0)$ exactly when the person's scale effect $u_{2j}$ is positive, so the
probability is the share of draws with $u_{2j} > 0$.
''')

code(r'''
p_more = (r_m3.sel(id__coef="sigma_Intercept") > 0).mean(("chain", "draw"))
people_m3["p_more_variable"] = p_more.values
verdict = pd.cut(people_m3["p_more_variable"], [-0.01, 0.025, 0.975, 1.0],
                 labels=["credibly less variable", "unclear", "credibly more variable"])
print(verdict.value_counts().sort_index().to_string())
print(people_m3.groupby(verdict, observed=True)["days"].median().rename("median days").to_string())
''')

md(r'''
Most people are clearly on one side of the typical person; only a minority cannot be told apart
from them. Those unclear cases tend to have fewer days: with few days a person's residual SD is
estimated imprecisely and shrunk toward the typical value, exactly as a person's mean is in a
varying-intercept model.

```{solution-end}
```
''')

md(r'''
```{exercise}
:label: ch05-ex3

*(Hard.)* Fit the same MELSM to **positive** affect (`pa_std`), for speed on 40 randomly chosen
people only. Is the correlation between the location intercept and the scale intercept positive
as it is for NA? Given the floor effect discussed above, what would you expect for PA, which is
not piled up at one end of its scale?
```
''')

md(r'''
```{solution-start} ch05-ex3
:class: dropdown
```

We draw 40 people with the chapter's random generator, remove the other people's levels, and fit
the MELSM with the same priors and the formula's outcome changed to `pa_std`.
''')

code(r'''
some_ids = rng.choice(d["id"].cat.categories.to_numpy(), size=40, replace=False)
d40 = d[d["id"].isin(some_ids)].reset_index(drop=True)
d40["id"] = d40["id"].cat.remove_unused_categories()
d40["day01_c"] = d40["day01"] - d40["day01"].mean()
m3_pa = CorrelatedModel("pa_std ~ 1 + day01_c + (1 + day01 |i| id)", d40,
                        sigma="sigma ~ 1 + (1 |i| id)", priors=priors_m3)
idata_m3_pa = fit("m3 PA (40 people)", m3_pa)
gate("m3 PA (40 people)", idata_m3_pa)
cor_names_pa = add_correlations(idata_m3_pa)
summary_table(idata_m3_pa, ["sd_id", *cor_names_pa])
''')

md(r'''
For PA the location-scale correlation is much weaker than for NA, and its interval, from only 40
people, is wide. This fits the floor explanation: PA is roughly symmetric, so a low PA does not
force low variability. A fit to all 193 people would narrow the interval; the code is the same
with `d` in place of `d40`.

```{solution-end}
```
''')

md(r'''
## Adapted from

This chapter adapts the week-8 lecture "MELSM" of Sara Weston's Bayesian course
{cite:p}`weston2024week8` (<https://uobayes.netlify.app/lectures/>), which fits these models with
brms {cite:p}`burkner2017brms` to data of {cite:t}`williams2020melsm`. The LKJ distribution is due
to {cite:t}`lewandowski2009lkj`. Models, data steps and figures follow the source; text and code
are the course's own.

## Watermark
''')

code(r'''
%load_ext watermark
%watermark -n -u -v -iv -w
''', tags=["nbval-ignore-output"])
