namespace Flywheel.Simulation;

/// <summary>Progress of a run: product-days simulated out of the total.</summary>
/// <param name="Done">Product-days done.</param>
/// <param name="Total">Product-days in the run.</param>
public readonly record struct SimulationProgress(long Done, long Total)
{
    /// <summary>Share done, 0 to 1.</summary>
    public double Fraction => Total == 0 ? 1 : (double)Done / Total;
}

/// <summary>
/// Runs a <see cref="Scenario"/>: one shared world, and for each product its own users, its own engine and its own
/// store on disk, all on fake clocks. Products run in parallel; each run of the same scenario, options and seed gives the
/// same figures.
/// </summary>
public static class Simulation
{
    /// <summary>Runs <paramref name="scenario"/> and returns every product's daily and monthly figures and turn ledger.</summary>
    public static async Task<SimulationResult> RunAsync(Scenario scenario, SimulationOptions options, IProgress<SimulationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Validate(scenario);
        var world = new FeedWorld(scenario.World, options.Seed, options.Days);
        Directory.CreateDirectory(options.DataDirectory);
        var total = (long)scenario.Products.Count * options.Days;
        long done = 0;
        void OnDay()
        {
            var now = Interlocked.Increment(ref done);
            progress?.Report(new SimulationProgress(now, total));
        }
        foreach (var spec in scenario.Products)
        {
            ProductRunner.ClearStore(Path.Combine(options.DataDirectory, spec.Key));
        }
        // One product's failure stops the others rather than letting them run out their year.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var runs = scenario.Products.Select(spec => Task.Run(async () =>
        {
            try
            {
                return await new ProductRunner(world, spec, options).RunAsync(OnDay, stop.Token).ConfigureAwait(false);
            }
            catch
            {
                await stop.CancelAsync().ConfigureAwait(false);
                throw;
            }
        }, stop.Token)).ToArray();
        var products = await Task.WhenAll(runs).ConfigureAwait(false);
        return new SimulationResult { Scenario = scenario, Options = options, Products = products };
    }

    /// <summary>Product keys name folders and JSON members: short, lower-case, unique; days are 1-based.</summary>
    private static void Validate(Scenario scenario)
    {
        if (scenario.Products is null || scenario.Products.Count == 0)
        {
            throw new ArgumentException("a scenario needs at least one product", nameof(scenario));
        }
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in scenario.Products)
        {
            if (p.Key is null || p.Key.Length is 0 or > 16 || !p.Key.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9')) || !keys.Add(p.Key))
            {
                throw new ArgumentException($"product key '{p.Key}' must be 1 to 16 lower-case letters or digits, unique in the scenario", nameof(scenario));
            }
            if (p.LaunchDay < 1 || p.FreezeDay < 1 || p.ClonedFromDay < 1)
            {
                throw new ArgumentException($"product '{p.Key}': launchDay, freezeDay and clonedFromDay count from day 1", nameof(scenario));
            }
        }
    }
}
