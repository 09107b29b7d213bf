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
}
